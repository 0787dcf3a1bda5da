// Closing a worker whose Redis is gone. bullmq's Worker.close() then waits forever: it awaits an
// 'end' that ioredis never emits for a connection disconnected while it was reconnecting
// (bullmq#4656, ioredis#1247), and its pending commands wait in ioredis' offline queue
// (maxRetriesPerRequest: null). So the worker stops waiting once Redis has not answered for a
// while, and drops its connections and timers itself.
import type { Queue, Worker } from 'bullmq';
import { delay, startTimer } from '../io/timer.js';

/** A bullmq RedisConnection as far as closing it goes (public in bullmq's RedisQueueBackend). */
interface BullConnection {
  close(force?: boolean): Promise<void>;
}

/**
 * Resolves true once `closed` settles; false once `redisReady` has been false for `goneMs` on end
 * (Redis gone), or `maxMs` passed (a close stuck even though Redis is back: bullmq#2430).
 */
export async function settledOrRedisGone(
  closed: Promise<unknown>,
  redisReady: () => Promise<boolean>,
  goneMs: number,
  maxMs: number,
): Promise<boolean> {
  let settled = false;
  void closed.then(
    () => (settled = true),
    () => (settled = true),
  );
  const start = Date.now();
  let lastReady = start;
  for (;;) {
    if (settled) return true;
    // Bounded: a connection that never came up can leave the question pending.
    const ready = await Promise.race([redisReady().catch(() => false), delay(1_000).then(() => false)]);
    if (ready) lastReady = Date.now();
    const now = Date.now();
    if (now - lastReady >= goneMs || now - start >= maxMs) return settled;
    await tick(200);
  }
}

// Ref'd: the close in progress is what the process is waiting for.
const tick = (ms: number): Promise<void> => new Promise((resolve) => startTimer(resolve, ms, { unref: false }));

/** Drops what a worker and its queue hold open without waiting for Redis: connections, lock renewal. */
export async function dropConnections(worker: Worker, queue: Queue): Promise<void> {
  // bullmq's close is stuck before the step that stops its lock-renewal timer (which re-arms itself).
  await (worker as unknown as { lockManager?: { close(): Promise<void> } }).lockManager?.close().catch(() => undefined);
  for (const owner of [worker, queue]) {
    const backend = owner.getBackend() as unknown as { connection?: BullConnection; blockingConnection?: BullConnection };
    // force: ioredis disconnect() (no QUIT, which would wait in the offline queue), which also stops reconnecting.
    for (const connection of [backend.blockingConnection, backend.connection]) await connection?.close(true).catch(() => undefined);
  }
}
