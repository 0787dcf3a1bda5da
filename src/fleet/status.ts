// `fleet status`: the queue's job counts and the live workers, from BullMQ and the workers' heartbeats.
import { Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { assertRedisReachable, bullConnection, type RedisConnection } from './redis.js';

/** What a worker says about itself in its heartbeat. */
export interface NodeInfo {
  name: string;
  concurrency: number;
  host: string;
  pid: number;
  runtime: string;
  startedAt: number;
  /** Jobs it runs now (at its last heartbeat). */
  running?: number;
}

export interface FleetStatus {
  queue: string;
  counts: { waiting: number; active: number; completed: number; failed: number; delayed: number };
  /** Workers connected to the queue now, with what their heartbeat says (null: no salvo heartbeat). */
  workers: { name: string; addr: string | null; info: NodeInfo | null }[];
}

export function heartbeatKey(prefix: string | undefined, queue: string, name: string): string {
  return `${prefix ?? 'bull'}:${queue}:salvo:node:${name}`;
}

export async function fleetStatus(options: {
  redis: RedisConnection;
  redisOptions?: RedisOptions;
  queue: string;
  prefix?: string;
}): Promise<FleetStatus> {
  // A status query fails fast when Redis is not there, rather than waiting for it.
  const connection = bullConnection(options.redis, { maxRetriesPerRequest: 1, connectTimeout: 5_000, ...options.redisOptions });
  await assertRedisReachable(options.redis, options.redisOptions);
  const queue = new Queue(options.queue, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // a failed command rejects below
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    // A worker may hold more than one named connection: one entry per name.
    const clients = new Map((await queue.getWorkers()).map((c) => [c.rawname?.split(':w:')[1] ?? '', c]));
    const client = await queue.getBackend().client;
    const workers = await Promise.all(
      [...clients].map(async ([name, c]) => {
        const beat = await client.get(heartbeatKey(options.prefix, options.queue, name));
        return { name, addr: c.addr ?? null, info: beat === null ? null : (JSON.parse(beat) as NodeInfo) };
      }),
    );
    workers.sort((a, b) => a.name.localeCompare(b.name));
    return {
      queue: options.queue,
      counts: {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        delayed: counts.delayed ?? 0,
      },
      workers,
    };
  } finally {
    await queue.close();
  }
}
