// Public types of batches: jobs, their results and events, and the batch's options.
import type { PlainError } from './plain.js';
import type { Rusage } from './records.js';
import type { StartSpec } from './start.js';

/** One job of a batch: a start spec without its own signal, with an optional timeout. */
export interface JobSpec extends Omit<StartSpec, 'signal' | 'id' | 'batchId'> {
  /** Container id; default `<batchId>-<index>`. */
  id?: string;
  /** Stop the job this long after it started running (overrides the batch's timeoutMs). */
  timeoutMs?: number;
}

export type JobState = 'exited' | 'failed' | 'lost' | 'canceled' | 'timedOut';

export interface JobTimings {
  /** From the job being taken from the input to a worker picking its start up. */
  queuedMs: number;
  prepareMs: number;
  runtimeMs: number;
  /** From running to exit. */
  runMs: number;
  /** Time spent waiting for a free file descriptor or process slot (see LaunchTimings.waitedMs). */
  waitedMs: number;
}

/** The outcome of one job; a batch yields one per job and never throws for a job's own failure. */
export interface JobResult {
  /** Position of the job in the input (0-based). */
  index: number;
  id: string;
  batchId: string;
  state: JobState;
  exitCode: number | null;
  signal: string | null;
  error: PlainError | null;
  pid: number | null;
  rusage: Rusage | null;
  timings: JobTimings;
  startedAt: number | null;
  endedAt: number;
  /** Log files of the job's stdout and stderr (stdio 'log'), else null. */
  stdoutPath: string | null;
  stderrPath: string | null;
  labels: Record<string, string>;
}

export interface BatchEvent {
  /** 'starting': taken for a start (before the runtime runs); 'started': running; 'finished': its result. */
  type: 'starting' | 'started' | 'finished';
  index: number;
  id: string;
  pid?: number;
  result?: JobResult;
}

export interface BatchOptions {
  /** Runtime starts in flight at once. Default: the launcher's pool capacity. */
  concurrency?: number;
  /** Jobs alive (starting or running) at once. Default: unlimited. */
  maxRunning?: number;
  /** Cancels the batch: queued jobs are canceled, running ones stopped (SIGTERM, grace, SIGKILL). */
  signal?: AbortSignal;
  /** Per-job timeout from when it runs; 0 = none. Default 0. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping a job. Default 10 s. */
  graceMs?: number;
  /** Groups the records; default a fresh id. */
  batchId?: string;
  /** After an abort: 'stop' reading the input (default) or 'drain' it, yielding `canceled` for each job. */
  onAbort?: 'stop' | 'drain';
  /** Called as jobs start and finish (e.g. for ndjson output and progress). */
  onEvent?: (event: BatchEvent) => void;
}
