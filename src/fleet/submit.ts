// submit: add job specs to the queue in bulk under their salvo ids; results: follow them to the
// end, one result per job id, from QueueEvents and a periodic re-read (events do not survive
// every outage; the jobs' state in Redis does).
import { Queue, QueueEvents, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { SalvoError } from '../errors.js';
import { newBatchId } from '../launcher/batch.js';
import type { JobSpec } from '../types.js';
import { lostResult, QUEUE_NAME_PATTERN, type FleetJobData, type FleetResult } from './job-data.js';
import { assertRedisReachable, bullConnection, type RedisConnection } from './redis.js';
import { FLEET_DEFAULTS } from './settings.js';

export interface QueueOptions {
  redis: RedisConnection;
  /** Extra ioredis options (password, tls, db…), over those of the URL. */
  redisOptions?: RedisOptions;
  queue: string;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
}

export interface SubmitOptions extends QueueOptions {
  /** Names the jobs without an id (`<batchId>-<line index>`) and groups the results. Default: a new one. */
  batchId?: string;
  /** Jobs per addBulk call. */
  chunk?: number;
}

export interface Submitted {
  batchId: string;
  /** Every job id, in input order, once each. */
  ids: string[];
  /** Ids that were already in the queue (added before): not added again. */
  existing: string[];
}

/** BullMQ refuses job ids that read as integers; salvo ids may not hold ':' anyway. */
export function queueJobIdProblem(id: string): string | null {
  return `${Number.parseInt(id, 10)}` === id ? `id ${id} reads as an integer, which BullMQ refuses as a job id` : null;
}

function connectionOf(options: QueueOptions): ConnectionOptions {
  if (!QUEUE_NAME_PATTERN.test(options.queue)) {
    throw new SalvoError('ERR_INVALID_OPTION', `queue name ${JSON.stringify(options.queue)} must be 1-128 of A-Z a-z 0-9 _ . -`);
  }
  return bullConnection(options.redis, { maxRetriesPerRequest: null, ...options.redisOptions });
}

/** Adds the jobs (already validated specs) under their ids; an id already in the queue is one job. */
export async function submit(jobs: Iterable<JobSpec> | AsyncIterable<JobSpec>, options: SubmitOptions): Promise<Submitted> {
  const batchId = options.batchId ?? newBatchId();
  const connection = connectionOf(options);
  await assertRedisReachable(options.redis, options.redisOptions);
  const queue = new Queue<FleetJobData, FleetResult, 'salvo'>(options.queue, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // commands wait out an outage (maxRetriesPerRequest null)
  const chunkSize = options.chunk ?? 500;
  const ids: string[] = [];
  const seen = new Set<string>();
  const existing: string[] = [];
  let chunk: { name: 'salvo'; data: FleetJobData; opts: JobsOptions }[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    // Only to say so: BullMQ itself keeps one job per id (addBulk leaves an existing one as it is).
    const states = await Promise.all(chunk.map((job) => queue.getJobState(job.opts.jobId!)));
    chunk.forEach((job, i) => states[i] !== 'unknown' && existing.push(job.opts.jobId!));
    await queue.addBulk(chunk);
    chunk = [];
  };
  try {
    let index = 0;
    for await (const spec of jobs) {
      const id = spec.id ?? `${batchId}-${index}`;
      const problem = queueJobIdProblem(id);
      if (problem !== null) throw new SalvoError('ERR_INVALID_ID', `job ${index}: ${problem}`);
      if (!seen.has(id)) {
        seen.add(id);
        ids.push(id);
        chunk.push({
          name: 'salvo',
          data: { spec: { ...spec, id }, index, batchId },
          opts: { jobId: id, attempts: FLEET_DEFAULTS.attempts, backoff: { type: 'fixed', delay: FLEET_DEFAULTS.backoffMs } },
        });
      }
      index++;
      if (chunk.length >= chunkSize) await flush();
    }
    await flush();
  } finally {
    await queue.close();
  }
  return { batchId, ids, existing };
}

export interface ResultsOptions extends QueueOptions {
  /** Called when a job becomes active (for a progress line). */
  onActive?: (id: string) => void;
  /** Stops following. */
  signal?: AbortSignal;
}

/** Yields one result per id, in the order they finish (ids already finished first). */
export async function* results(ids: Iterable<string>, options: ResultsOptions): AsyncGenerator<FleetResult> {
  const connection = connectionOf(options);
  await assertRedisReachable(options.redis, options.redisOptions);
  const pending = new Set(ids);
  const queue = new Queue<FleetJobData, FleetResult>(options.queue, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // commands wait out an outage; the re-read covers it
  const events = new QueueEvents(options.queue, { connection, prefix: options.prefix });
  const ready: FleetResult[] = [];
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const settle = (id: string, result: FleetResult): void => {
    if (!pending.delete(id)) return;
    ready.push(result);
    notify();
  };
  const fromJob = (job: Job<FleetJobData, FleetResult> | undefined, id: string): FleetResult | null => {
    if (job === undefined) {
      return lostResult(id, undefined, 0, 0, {
        code: 'ERR_NOT_FOUND',
        message: `job ${id} is no longer in queue ${options.queue} (removed, or Redis lost its data)`,
      });
    }
    if (job.finishedOn === undefined) return null;
    if (job.returnvalue !== null && job.returnvalue !== undefined && typeof job.returnvalue === 'object') return job.returnvalue;
    if (job.failedReason !== undefined) {
      return lostResult(id, job.data, job.attemptsStarted, job.timestamp, {
        code: 'ERR_NODE_LOST',
        message: `job ${id} got no result: ${job.failedReason}`,
      });
    }
    return null;
  };
  const check = async (id: string): Promise<void> => {
    const job = await queue.getJob(id);
    // Completed jobs have their returnvalue; failed ones are final only once BullMQ gives up retrying.
    if (job !== undefined && job.finishedOn !== undefined && job.returnvalue == null && (await job.getState()) !== 'failed') return;
    const result = fromJob(job, id);
    if (result !== null) settle(id, result);
  };
  events.on('completed', ({ jobId, returnvalue }) => {
    const value = typeof returnvalue === 'string' ? (JSON.parse(returnvalue) as FleetResult) : (returnvalue as unknown as FleetResult);
    if (value !== null && typeof value === 'object') settle(jobId, value);
  });
  events.on('failed', ({ jobId }) => {
    if (pending.has(jobId)) void check(jobId).catch(() => undefined);
  });
  events.on('active', ({ jobId }) => {
    if (pending.has(jobId)) options.onActive?.(jobId);
  });
  events.on('error', () => undefined); // reconnects on its own; the re-read covers the gap
  let stopped = false;
  let pause: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  const reconcile = async (): Promise<void> => {
    while (!stopped && pending.size > 0) {
      const batch = [...pending];
      for (let i = 0; i < batch.length && !stopped; i += 200) await Promise.all(batch.slice(i, i + 200).map((id) => check(id)));
      if (stopped) break;
      await new Promise<void>((resolve) => (pause = { timer: setTimeout(resolve, FLEET_DEFAULTS.reconcileMs), resolve }));
      pause = null;
    }
  };
  const stop = (): void => {
    stopped = true;
    const p = pause as { timer: NodeJS.Timeout; resolve: () => void } | null;
    if (p !== null) {
      clearTimeout(p.timer);
      p.resolve();
    }
  };
  const onAbort = (): void => {
    stop();
    notify();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await events.waitUntilReady();
    // Events from here on; what finished before is found by the first re-read.
    const reading = reconcile().catch((error: unknown) => {
      stop();
      throw error;
    });
    reading.catch(() => notify());
    for (;;) {
      const next = ready.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (pending.size === 0 || stopped || options.signal?.aborted === true) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    stop();
    await reading;
  } finally {
    stop();
    options.signal?.removeEventListener('abort', onAbort);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}
