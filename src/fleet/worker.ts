// runWorker: a BullMQ Worker whose processor runs each queue job through the local launcher and
// returns its result. A job's own failure is a result; only a lost node gets the job run again.
import { hostname } from 'node:os';
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { validateJobLine } from '../cli/jobs-file.js';
import { Launcher } from '../launcher/launcher.js';
import { newBatchId } from '../launcher/batch.js';
import { notRunResult } from '../launcher/not-run.js';
import { SalvoError } from '../errors.js';
import type { JobResult, LauncherOptions, Logger } from '../types.js';
import { containerIdFor, QUEUE_NAME_PATTERN, type FleetJobData, type FleetResult } from './job-data.js';
import { LocalRunner } from './local-runner.js';
import { assertRedisReachable, bullConnection, redactRedisUrl, type RedisConnection } from './redis.js';
import { FLEET_DEFAULTS, type StallSettings } from './settings.js';
import { heartbeatKey, type NodeInfo } from './status.js';
import { dropConnections, settledOrRedisGone } from './redis-gone.js';

export interface WorkerOptions extends StallSettings {
  redis: RedisConnection;
  /** Extra ioredis options (password, tls, db…), over those of the URL. */
  redisOptions?: RedisOptions;
  queue: string;
  /** An open launcher (left open by close()), or options to open one (closed by close()). */
  launcher?: Launcher | LauncherOptions;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  /** Runtime starts in flight at once. Default min(concurrency, 4). */
  startConcurrency?: number;
  /** The node's name in results and `fleet status`. Default `<hostname>-<pid>`. */
  name?: string;
  /** Timeout of a job whose spec has none; 0 = none. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when a job is stopped (timeout, shutdown). Default 10 s. */
  graceMs?: number;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
  logger?: Logger;
  /** Called with each result this node completes (the CLI prints them). */
  onResult?: (result: FleetResult) => void;
}

export interface WorkerHandle {
  readonly name: string;
  readonly launcher: Launcher;
  /**
   * Takes no more jobs; running ones may finish for graceMs (default 30 s), then are stopped and
   * handed back to the queue (another node runs them). Resolves once all is closed.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** Stops running jobs now (SIGKILL), hands them back, and closes. */
  kill(): Promise<void>;
  /** Resolves when the worker closed; rejects when it failed (its launcher or Redis). */
  readonly closed: Promise<void>;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export async function runWorker(options: WorkerOptions): Promise<WorkerHandle> {
  if (typeof options.queue !== 'string' || !QUEUE_NAME_PATTERN.test(options.queue)) {
    throw new SalvoError('ERR_INVALID_OPTION', `queue name ${JSON.stringify(options.queue)} must be 1-128 of A-Z a-z 0-9 _ . -`);
  }
  const concurrency = options.concurrency ?? FLEET_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new SalvoError('ERR_INVALID_OPTION', `concurrency must be an integer ≥ 1, got ${concurrency}`);
  const startConcurrency = options.startConcurrency ?? Math.min(concurrency, FLEET_DEFAULTS.startConcurrency);
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const log = options.logger ?? silentLogger;
  await assertRedisReachable(options.redis, options.redisOptions);
  const ownLauncher = !(options.launcher instanceof Launcher);
  const launcher =
    options.launcher instanceof Launcher
      ? options.launcher
      : await Launcher.open({ tasksPerWorker: Math.max(4, startConcurrency * 2 + 2), ...(options.launcher ?? {}) });
  // Workers wait out a Redis outage (commands queue until it is back) instead of failing them.
  const connection = bullConnection(options.redis, { ...options.redisOptions, maxRetriesPerRequest: null });
  const runner = new LocalRunner(launcher, {
    batchId: `fleet-${newBatchId()}`,
    concurrency: startConcurrency,
    maxRunning: concurrency,
    timeoutMs: options.timeoutMs ?? 0,
    graceMs: options.graceMs ?? 10_000,
  });
  let handingBack = false;
  // Jobs whose result (or hand-back) has not reached Redis yet, by job id: their container ids.
  const undelivered = new Map<string, string>();

  const processor = async (job: Job<FleetJobData>, token?: string): Promise<FleetResult> => {
    const jobId = job.id!;
    const attempt = Math.max(1, job.attemptsStarted);
    const data = job.data;
    const containerId = containerIdFor(jobId, attempt);
    undelivered.set(jobId, containerId);
    const base = { id: jobId, index: data.index, batchId: data.batchId, node: name, attempt, addedAt: job.timestamp };
    let result: JobResult | null;
    try {
      const spec = validateJobLine(data.spec, data.index + 1, () => true);
      result = await runner.run({ ...spec, id: containerId });
    } catch (error) {
      if (error instanceof SalvoError || (error as Error).name !== 'UsageError') {
        // This node's launcher failed: BullMQ retries the job (elsewhere), and this node takes no more.
        log.error({ jobId, err: String(error) }, 'the launcher failed; closing this worker');
        void close(0, error).catch(() => undefined);
        throw error;
      }
      const invalid = { code: 'ERR_INVALID_SPEC', message: (error as Error).message };
      return {
        ...notRunResult({ index: data.index, id: jobId, batchId: data.batchId, state: 'failed', error: invalid }),
        ...base,
        containerId: null,
      };
    }
    if (result === null || handingBack) {
      // Stopped by this node's shutdown, not by the job: back to the queue for another node.
      await job
        .moveToWait(token)
        .then(() => undelivered.delete(jobId))
        .catch((error: unknown) => log.warn({ jobId, err: String(error) }, 'could not hand the job back; the stalled check will'));
      throw new WaitingError();
    }
    const done: FleetResult = { ...result, ...base, containerId };
    options.onResult?.(done);
    return done;
  };

  const worker = new Worker<FleetJobData, FleetResult>(options.queue, processor, {
    connection,
    prefix: options.prefix,
    name,
    concurrency,
    lockDuration: options.lockDurationMs ?? FLEET_DEFAULTS.lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? FLEET_DEFAULTS.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount ?? FLEET_DEFAULTS.maxStalledCount,
    autorun: false,
  });
  worker.on('error', (error) => log.warn({ err: error.message }, 'queue connection error (retrying)'));
  worker.on('completed', (job) => undelivered.delete(job.id!));
  worker.on('failed', (job) => job?.id !== undefined && undelivered.delete(job.id));
  // Heartbeats for `fleet status`: who is there, with what concurrency.
  const queue = new Queue(options.queue, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // the worker's own 'error' listener reports the outage
  const info: NodeInfo = { name, concurrency, host: hostname(), pid: process.pid, runtime: launcher.runtime.flavour, startedAt: Date.now() };
  const key = heartbeatKey(options.prefix, options.queue, name);
  const beat = async (): Promise<void> => {
    const client = (await queue.getBackend().client) as unknown as Redis;
    await client.set(key, JSON.stringify({ ...info, running: runner.runningIds.length }), 'PX', FLEET_DEFAULTS.heartbeatMs * 3);
  };
  const heartbeat = setInterval(() => void beat().catch(() => undefined), FLEET_DEFAULTS.heartbeatMs);
  heartbeat.unref();
  void beat().catch(() => undefined);
  log.info({ node: name, queue: options.queue, redis: redactRedisUrl(options.redis), concurrency }, 'fleet worker started');

  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  let rejectClosed!: (error: unknown) => void;
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve;
    rejectClosed = reject;
  });
  closed.catch(() => undefined);
  const handBack = (now: boolean): void => {
    handingBack = true;
    const running = runner.runningIds;
    runner.stop();
    if (now) for (const id of running) void launcher.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
  };
  const redisReady = async (): Promise<boolean> => ((await worker.getBackend().client) as unknown as Redis).status === 'ready';
  const close = (graceMs: number, failure: unknown = null): Promise<void> => {
    closing ??= (async () => {
      const timer = setTimeout(() => handBack(false), graceMs);
      const queueClosed = worker.close(); // takes no more jobs; resolves once results and hand-backs reached Redis
      queueClosed.catch(() => undefined);
      let outcome = failure;
      try {
        // Every job taken ends (finishes, or is stopped after the grace): its exit is in the local store.
        await runner.end().catch(() => undefined);
        clearTimeout(timer);
        clearInterval(heartbeat);
        if (await settledOrRedisGone(queueClosed, redisReady, FLEET_DEFAULTS.redisGoneMs, FLEET_DEFAULTS.closeStuckMs)) {
          await queueClosed;
          await (await queue.getBackend().client).del(key).catch(() => undefined);
          await queue.close().catch(() => undefined);
        } else {
          await dropConnections(worker, queue);
          const lost = [...undelivered.values()];
          log.error({ node: name, undelivered: lost }, 'Redis did not answer while the worker closed; connections dropped');
          if (outcome === null && lost.length > 0) {
            outcome = new SalvoError(
              'ERR_REDIS_UNREACHABLE',
              `Redis at ${redactRedisUrl(options.redis)} did not answer while the worker closed: ${lost.join(', ')} ended here ` +
                '(their exits are in the local store) but Redis does not know; the queue runs them again once their lock expires',
            );
          }
        }
      } finally {
        clearTimeout(timer);
        clearInterval(heartbeat);
        if (ownLauncher) await launcher.close({ containers: 'kill', graceMs: 5_000 });
      }
      log.info({ node: name }, 'fleet worker closed');
      if (outcome === null) resolveClosed();
      else rejectClosed(outcome);
    })();
    return closing;
  };
  // The default bundle is built before the first job is taken, not inside its start.
  await launcher.defaultBundle().catch((error: unknown) => log.warn({ err: String(error) }, 'no default bundle; jobs that name none will fail'));
  void worker.run().catch((error: unknown) => void close(0, error).catch(() => undefined));
  await worker.waitUntilReady();
  return {
    name,
    launcher,
    closed,
    close: (o = {}) => close(o.graceMs ?? FLEET_DEFAULTS.shutdownGraceMs).then(() => closed),
    kill: () => {
      handBack(true);
      return close(0).then(() => closed);
    },
  };
}
