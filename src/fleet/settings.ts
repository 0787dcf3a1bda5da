// The fleet's BullMQ settings in one place: docs/fleet.md explains each choice.

export const FLEET_DEFAULTS = {
  /** A worker holds each active job under a lock it renews every lockDurationMs / 2. */
  lockDurationMs: 30_000,
  /** How often a worker looks for active jobs whose lock expired (their node is gone). */
  stalledIntervalMs: 15_000,
  /** A job whose node is lost more often than this is failed (reported `lost`), not re-run again. */
  maxStalledCount: 2,
  /** Attempts when the processor itself throws (the node's launcher failed, not the job). */
  attempts: 3,
  /** Delay before such a retry. */
  backoffMs: 1_000,
  /** Jobs a worker runs at once. */
  concurrency: 4,
  /** Runtime starts in flight at once on a worker (salvo's backpressure). */
  startConcurrency: 4,
  /** SIGTERM: how long running jobs may finish before they are stopped and handed back. */
  shutdownGraceMs: 30_000,
  /** Closing: Redis silent this long (after the jobs ended) is taken as gone; the worker drops its connections. */
  redisGoneMs: 3_000,
  /** Closing: bullmq's close still pending this long after the jobs ended is taken as stuck (bullmq#2430). */
  closeStuckMs: 30_000,
  /** A worker's heartbeat for `fleet status`: refreshed this often, expires after three misses. */
  heartbeatMs: 5_000,
  /** submit --wait re-reads the state of unfinished jobs this often (events can be missed across a Redis restart). */
  reconcileMs: 2_000,
} as const;

/** Lock and stalled-job settings a worker runs with; tests shorten them. */
export interface StallSettings {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}
