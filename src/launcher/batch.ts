// The batch scheduler: pulls job specs from an (async) iterable only as fast as it launches them,
// keeps at most `concurrency` starts in flight, yields a JobResult per job as each one finishes,
// and stops jobs the right way (runtime kill SIGTERM, grace, SIGKILL; delete --force follows).
import { createWriteStream } from 'node:fs';
import { SalvoError, plainError } from '../errors.js';
import type { BatchEvent, BatchOptions, Exit, JobResult, JobSpec, JobState, PlainError, StartSpec } from '../types.js';
import { processPaths } from '../io/process-dir.js';
import { closeSpawnGate, createSpawnGate } from '../io/spawn-gate.js';
import { startTimer, type Timer } from '../io/timer.js';
import { now } from '../time.js';
import { newBatchId } from './batch-id.js';
import { notRunResult } from './not-run.js';
import type { Proc } from './proc.js';
import { JOB_FIELDS, refuseUnknownFields } from './spec-fields.js';
import { isMilliseconds, showValue } from './validate.js';

/** What the scheduler needs from the launcher. */
export interface BatchHost {
  /** Starts one job; its runtime spawn waits for a slot of `gate` (src/io/spawn-gate.ts). */
  start(spec: StartSpec, gate: SharedArrayBuffer): Promise<Proc>;
  kill(id: string, signal: string, options: { all?: boolean }): Promise<void>;
  hasInBatch(batchId: string, id: string): boolean;
  readonly capacity: number;
}

/** Jobs prepared beyond the spawn slots, so a process directory is ready when a slot frees. */
const PREPARE_AHEAD = 1;

export const BATCH_DEFAULTS = { timeoutMs: 0, graceMs: 10_000, onAbort: 'stop', highWaterMark: 1024 } as const;

interface Normalized {
  concurrency: number;
  maxRunning: number;
  timeoutMs: number;
  graceMs: number;
  batchId: string;
  onAbort: 'stop' | 'drain';
  signal: AbortSignal | null;
  onEvent: (event: BatchEvent) => void;
}

function bad(option: string, value: unknown, expected: string): SalvoError {
  return new SalvoError('ERR_INVALID_OPTION', `batch option ${option} must be ${expected}, got ${showValue(value)}`);
}

function count(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw bad(option, value, 'an integer ≥ 1');
  return value;
}

function ms(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!isMilliseconds(value)) throw bad(option, value, 'a number of ms ≥ 0');
  return value;
}

export { newBatchId };

/** What a batch id may be: it groups records, so it is short and safe in a path or a log line. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function normalizeBatchOptions(options: BatchOptions, capacity: number): Normalized {
  if (typeof options !== 'object' || options === null) throw bad('options', options, 'an object');
  const onAbort = options.onAbort ?? BATCH_DEFAULTS.onAbort;
  if (onAbort !== 'stop' && onAbort !== 'drain') throw bad('onAbort', onAbort, '"stop" or "drain"');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw bad('signal', options.signal, 'an AbortSignal');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw bad('onEvent', options.onEvent, 'a function');
  const batchId = options.batchId ?? newBatchId();
  if (typeof batchId !== 'string' || !BATCH_ID_PATTERN.test(batchId)) {
    throw bad('batchId', batchId, '1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit');
  }
  return {
    concurrency: count('concurrency', options.concurrency, capacity),
    maxRunning: count('maxRunning', options.maxRunning, Infinity),
    timeoutMs: ms('timeoutMs', options.timeoutMs, BATCH_DEFAULTS.timeoutMs),
    graceMs: ms('graceMs', options.graceMs, BATCH_DEFAULTS.graceMs),
    batchId,
    onAbort,
    signal: options.signal ?? null,
    onEvent: options.onEvent ?? (() => undefined),
  };
}

interface RunningJob {
  index: number;
  id: string;
  proc: Proc;
  stopReason: 'canceled' | 'timedOut' | null;
  timers: Timer[];
  done: boolean;
}

type Jobs = Iterable<JobSpec> | AsyncIterable<JobSpec>;

/** Yields one JobResult per job, in the order they finish. */
export async function* runBatch(host: BatchHost, jobs: Jobs, options: BatchOptions = {}): AsyncGenerator<JobResult> {
  const run = new BatchRun(host, normalizeBatchOptions(options, host.capacity));
  yield* run.results(jobs);
}

class BatchRun {
  readonly #host: BatchHost;
  readonly #o: Normalized;
  readonly #abort = new AbortController();
  /** At most `concurrency` runtime spawns at once; one more job may prepare meanwhile. */
  readonly #spawnGate: SharedArrayBuffer;
  readonly #ready: JobResult[] = [];
  readonly #running = new Map<number, RunningJob>();
  #alive = 0;
  #inputDone = false;
  #inputError: unknown = null;
  #waiters: (() => void)[] = [];
  /** Ids whose start is under way: the store knows them only once subscribed. */
  readonly #startingIds = new Set<string>();

  constructor(host: BatchHost, options: Normalized) {
    this.#host = host;
    this.#o = options;
    this.#spawnGate = createSpawnGate(options.concurrency === Infinity ? 2 ** 30 : options.concurrency);
  }

  get #aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  #changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #nextChange(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  async #until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.#nextChange();
  }

  async *results(jobs: Jobs): AsyncGenerator<JobResult> {
    const onAbort = (): void => this.#cancelAll();
    this.#o.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#o.signal?.aborted === true) this.#cancelAll();
    const feeding = this.#feed(jobs);
    let finished = false;
    try {
      for (;;) {
        const next = this.#ready.shift();
        if (next !== undefined) {
          this.#changed(); // room in the result buffer
          yield next;
          continue;
        }
        if (this.#inputDone && this.#alive === 0) break;
        await this.#nextChange();
      }
      await feeding;
      finished = true;
      if (this.#inputError !== null) throw this.#inputError;
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
      if (!finished) {
        // The consumer left early (break/return/throw): stop what runs, leave nothing behind.
        this.#cancelAll();
        await this.#until(() => this.#alive === 0);
        await feeding.catch(() => undefined);
      }
    }
  }

  /** Reads the input only when a start slot, a running slot and result room are all free. */
  async #feed(jobs: Jobs): Promise<void> {
    const iterator =
      Symbol.asyncIterator in jobs ? (jobs as AsyncIterable<JobSpec>)[Symbol.asyncIterator]() : (jobs as Iterable<JobSpec>)[Symbol.iterator]();
    let index = 0;
    try {
      for (;;) {
        await this.#until(
          () =>
            this.#aborted ||
            (this.#startingIds.size < this.#o.concurrency + PREPARE_AHEAD &&
              this.#alive < this.#o.maxRunning &&
              this.#ready.length < BATCH_DEFAULTS.highWaterMark),
        );
        if (this.#aborted && this.#o.onAbort === 'stop') break;
        if (this.#aborted) await this.#until(() => this.#ready.length < BATCH_DEFAULTS.highWaterMark);
        const next = await iterator.next();
        if (next.done === true) break;
        const jobIndex = index++;
        if (this.#aborted) this.#push(this.#notRun(jobIndex, next.value, 'canceled', null));
        else void this.#launch(jobIndex, next.value);
      }
    } catch (error) {
      this.#inputError = error;
    } finally {
      if (this.#aborted || this.#inputError !== null) await (iterator.return?.() as unknown);
      this.#inputDone = true;
      this.#changed();
    }
  }

  #push(result: JobResult): void {
    this.#ready.push(result);
    this.#emit({ type: 'finished', index: result.index, id: result.id, result });
    this.#changed();
  }

  #emit(event: BatchEvent): void {
    try {
      this.#o.onEvent(event);
    } catch {
      // a faulty listener must not lose results or stall the batch
    }
  }

  #jobId(index: number, spec: JobSpec): string {
    const id = (spec as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : `${this.#o.batchId}-${index}`;
  }

  async #launch(index: number, spec: JobSpec): Promise<void> {
    const takenAt = now();
    const id = this.#jobId(index, spec);
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      this.#push(this.#notRun(index, spec, 'failed', { code: 'ERR_INVALID_SPEC', message: `job ${index} must be an object` }));
      return;
    }
    if (this.#startingIds.has(id) || this.#host.hasInBatch(this.#o.batchId, id)) {
      const message = `job ${index}: id ${id} appears twice in batch ${this.#o.batchId}`;
      this.#push(this.#notRun(index, spec, 'failed', { code: 'ERR_DUPLICATE_ID', message }));
      return;
    }
    try {
      refuseUnknownFields(spec, JOB_FIELDS, `job ${index}`);
    } catch (error) {
      this.#push(this.#notRun(index, spec, 'failed', plainError(error)));
      return;
    }
    const timeoutMs = spec.timeoutMs ?? this.#o.timeoutMs;
    if (!isMilliseconds(timeoutMs)) {
      const message = `job ${index}: timeoutMs must be a number of ms ≥ 0, got ${showValue(spec.timeoutMs)}`;
      this.#push(this.#notRun(index, spec, 'failed', { code: 'ERR_INVALID_SPEC', message }));
      return;
    }
    this.#alive++;
    this.#startingIds.add(id);
    this.#emit({ type: 'starting', index, id });
    let proc: Proc;
    const { timeoutMs: _timeout, ...startSpec } = spec;
    try {
      proc = await this.#host.start({ ...startSpec, id, batchId: this.#o.batchId, signal: this.#abort.signal }, this.#spawnGate);
    } catch (error) {
      this.#startingIds.delete(id);
      await this.#startFailed(index, spec, id, error, takenAt);
      this.#alive--;
      this.#changed();
      return;
    }
    this.#startingIds.delete(id);
    this.#changed();
    // Nobody types into a batch job's terminal: what it prints goes to stdout.log, and reading it
    // to its end frees the pty.
    if (proc.terminal !== null) proc.terminal.stream.pipe(createWriteStream(processPaths(proc.dir).stdoutLog, { flags: 'a' }));
    const job: RunningJob = { index, id, proc, stopReason: null, timers: [], done: false };
    this.#running.set(index, job);
    this.#emit({ type: 'started', index, id, pid: proc.pid });
    if (timeoutMs > 0) job.timers.push(startTimer(() => this.#stop(job, 'timedOut'), timeoutMs));
    const exit = await proc.exited;
    job.done = true;
    for (const timer of job.timers) timer.clear();
    this.#running.delete(index);
    this.#alive--;
    this.#push(this.#finished(job, spec, exit));
  }

  async #startFailed(index: number, spec: JobSpec, id: string, error: unknown, takenAt: number): Promise<void> {
    const plain = plainError(error);
    const details = (error as { details?: { exited?: Promise<Exit>; timings?: Proc['timings'] } }).details;
    if (plain.code === 'ERR_ABORTED' && details?.exited !== undefined) {
      // Started just as the batch was aborted: the launcher killed it; report its real exit.
      const exit = await details.exited;
      const result = this.#notRun(index, spec, 'canceled', plain);
      this.#push({ ...result, exitCode: exit.exitCode, signal: exit.signal, pid: exit.pid, rusage: exit.rusage });
      return;
    }
    const state: JobState = plain.code === 'ERR_ABORTED' ? 'canceled' : 'failed';
    const result = this.#notRun(index, spec, state, plain, (error as { details?: { dir?: string } }).details?.dir ?? null);
    if (details?.timings !== undefined) result.timings = { ...details.timings, runMs: 0 };
    result.timings.queuedMs ||= Math.max(0, now() - takenAt);
    this.#push({ ...result, id });
  }

  /** A job that did not run; `dir` is its process directory when its start got that far. */
  #notRun(index: number, spec: unknown, state: JobState, error: PlainError | null, dir: string | null = null): JobResult {
    const id = this.#jobId(index, spec as JobSpec);
    const logs = logPaths(spec as JobSpec, state === 'failed' && error?.code === 'ERR_RUNTIME_FAILED' ? dir : null);
    return notRunResult({ index, id, batchId: this.#o.batchId, state, error, ...logs, labels: labelsOf(spec) });
  }

  #finished(job: RunningJob, spec: JobSpec, exit: Exit): JobResult {
    const state: JobState = job.stopReason ?? (exit.state === 'lost' ? 'lost' : 'exited');
    const error: PlainError | null = !exit.recorded
      ? { code: 'ERR_EXIT_NOT_RECORDED', message: `job ${job.id} exited but the store could not record its exit before the launcher closed` }
      : job.stopReason === 'timedOut'
        ? { code: 'ERR_TIMEOUT', message: `job ${job.id} ran longer than its timeout and was stopped` }
        : job.stopReason === 'canceled'
          ? { code: 'ERR_ABORTED', message: `job ${job.id} was canceled and stopped` }
          : null;
    return {
      index: job.index,
      id: job.id,
      batchId: this.#o.batchId,
      state,
      exitCode: exit.exitCode,
      signal: exit.signal,
      error,
      pid: exit.pid,
      rusage: exit.rusage,
      timings: { ...job.proc.timings, runMs: exit.durationMs },
      startedAt: exit.startedAt,
      endedAt: exit.exitedAt,
      ...logPaths(spec, job.proc.dir),
      labels: labelsOf(spec),
    };
  }

  /** SIGTERM to every process of the container, SIGKILL after the grace period. */
  #stop(job: RunningJob, reason: 'canceled' | 'timedOut'): void {
    if (job.done || job.stopReason !== null) return;
    job.stopReason = reason;
    void this.#host.kill(job.id, 'SIGTERM', { all: true }).catch(() => undefined);
    job.timers.push(
      startTimer(() => {
        if (!job.done) void this.#host.kill(job.id, 'SIGKILL', { all: true }).catch(() => undefined);
      }, this.#o.graceMs),
    );
  }

  #cancelAll(): void {
    if (!this.#aborted) this.#abort.abort();
    closeSpawnGate(this.#spawnGate); // starts waiting for a slot give up
    for (const job of this.#running.values()) this.#stop(job, 'canceled');
    this.#changed();
  }
}

function labelsOf(spec: unknown): Record<string, string> {
  const labels = (spec as { labels?: unknown } | null)?.labels;
  return typeof labels === 'object' && labels !== null && !Array.isArray(labels) ? { ...(labels as Record<string, string>) } : {};
}

/** This run's own log files (its process directory, DESIGN §4): a later run of the id has others. */
function logPaths(spec: JobSpec | null, dir: string | null): { stdoutPath: string | null; stderrPath: string | null } {
  const stdio = spec?.stdio ?? 'log';
  if (dir === null || stdio !== 'log') return { stdoutPath: null, stderrPath: null };
  const paths = processPaths(dir);
  return { stdoutPath: paths.stdoutLog, stderrPath: paths.stderrLog };
}
