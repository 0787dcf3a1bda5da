// Public types of salvo and the plain objects that cross the worker boundary. No imports.

/** Where a process's stdout and stderr go (stdin is always /dev/null unless a terminal). */
export type StdioMode = 'null' | 'log' | 'fifo';

/** How a container is started: one `run -d`, or `create` then `start` (timed separately). */
export type StartMode = 'run' | 'create-start';

/** Minimal logger interface: pino's, or anything shaped like it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LauncherOptions {
  /** Directory for the store, process directories and runtime state. Default /run/salvo as root. */
  stateDir?: string;
  /** 'runc', 'crun', or a path to a runc-compatible binary. Default 'runc'. */
  runtime?: string;
  /** The runtime's --root. Default `<stateDir>/runtime/<runtime name>`. */
  runtimeRoot?: string;
  /** Extra global runtime flags, placed after salvo's own (e.g. ['--systemd-cgroup']). */
  runtimeArgs?: string[];
  /** Worker threads that spawn runtime commands. Default 2. */
  workers?: number;
  /** Runtime commands one worker runs at once. Default 4. */
  tasksPerWorker?: number;
  /** Kill and report ERR_RUNTIME_HUNG when a runtime start has not returned by then. Default 60 s. */
  startTimeoutMs?: number;
  /** An untracked zombie is reaped as an orphan after this long. Default 5 s. */
  orphanGraceMs?: number;
  /**
   * crun 1.8 refuses hybrid cgroup hosts; 'auto' runs crun in a private mount namespace that
   * hides the cgroup2 controllers when this host needs it; 'off' never does. Default 'auto'.
   */
  crunHybridWorkaround?: 'auto' | 'off';
  /** `runtime delete` each container once its exit is recorded. Default true. */
  deleteAfterExit?: boolean;
  logger?: Logger;
}

export interface StartSpec {
  /** Container id: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$. */
  id: string;
  /** OCI bundle directory. Default: salvo's busybox bundle. */
  bundle?: string;
  /** Override process.args. */
  args?: string[];
  /** Environment for the container's process, merged over the bundle's (never the runtime's). */
  env?: Record<string, string> | string[];
  /** Override process.cwd. */
  cwd?: string;
  /** Run with a terminal (pty). */
  terminal?: boolean;
  /** stdout/stderr: 'log' (files in the process directory, default), 'null', or 'fifo' (streams). */
  stdio?: StdioMode;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Free-form labels stored with the record. */
  labels?: Record<string, string>;
  /** Cancels the start (the container is killed and force-deleted if it got that far). */
  signal?: AbortSignal;
  /** 'run' (one `run -d`, default) or 'create-start'. */
  startMode?: StartMode;
  /** Groups records of one batch. */
  batchId?: string;
}

export interface Rusage {
  userMs: number;
  systemMs: number;
  maxRssKb: number;
}

export type ExitState = 'exited' | 'lost';

export interface Exit {
  id: string;
  execId: string;
  pid: number;
  state: ExitState;
  exitCode: number;
  signal: string | null;
  rusage: Rusage | null;
  startedAt: number;
  exitedAt: number;
  durationMs: number;
}

export type RecordState = 'subscribed' | 'running' | 'exited' | 'failed' | 'lost';

/** One row of the store: a subscription from `subscribed` to its end. */
export interface ProcessRecord {
  seq: number;
  id: string;
  execId: string;
  state: RecordState;
  pid: number | null;
  pidStartTime: number | null;
  runtimeExitCode: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  exitCode: number | null;
  signal: string | null;
  rusage: Rusage | null;
  subscribedAt: number;
  startedAt: number | null;
  exitedAt: number | null;
  batchId: string | null;
  labels: Record<string, string>;
  bundle: string | null;
  dir: string;
}

/** Time spent in each phase of one launch, in milliseconds. */
export interface LaunchTimings {
  /** From the start call to a worker picking the task up. */
  queuedMs: number;
  /** Worker: process directory, derived config, IO endpoints. */
  prepareMs: number;
  /** Worker: the runtime command(s) until they returned. */
  runtimeMs: number;
  /**
   * Of the above (and of watching the started process), the time spent waiting for a free file
   * descriptor or process slot (EMFILE, ENFILE, EAGAIN) before retrying. 0 when nothing ran short.
   */
  waitedMs: number;
}

// --- the worker boundary: plain data only ---------------------------------------------------

/**
 * How to invoke the runtime: `file` with `prefix` args (a namespace wrapper, or nothing), then
 * `--root root --log <dir>/log.json --log-format json`, then `extraGlobalArgs`, then one verb.
 */
export interface RuntimeInvocation {
  file: string;
  prefix: string[];
  root: string;
  extraGlobalArgs: string[];
  env: Record<string, string>;
}

export interface ProcessOverride {
  args?: string[];
  env?: string[];
  cwd?: string;
  terminal?: boolean;
}

export interface StartTask {
  kind: 'start';
  runtime: RuntimeInvocation;
  id: string;
  dir: string;
  bundle: string;
  override: ProcessOverride | null;
  stdio: StdioMode;
  /** True when the main thread already made the process directory (fifo stdio). */
  prepared: boolean;
  startMode: StartMode;
  noPivot: boolean;
  noNewKeyring: boolean;
  timeoutMs: number;
  queuedAt: number;
}

export interface PrepareTask {
  kind: 'prepare';
  dir: string;
  stdio: StdioMode;
}

export interface RuntimeCommandTask {
  kind: 'command';
  runtime: RuntimeInvocation;
  /** The verb and its args, already built. */
  args: string[];
  /** Where the runtime's log goes, so an error can be read back. */
  logFile: string;
  timeoutMs: number;
}

export interface DeleteTask {
  kind: 'delete';
  runtime: RuntimeInvocation;
  id: string;
  force: boolean;
  logFile: string;
}

export type WorkerTask = StartTask | PrepareTask | RuntimeCommandTask | DeleteTask;

export interface PlainError {
  code: string;
  message: string;
}

export interface StartOk {
  ok: true;
  pid: number;
  pidStartTime: number;
  timings: LaunchTimings;
}

export interface StartFailed {
  ok: false;
  runtimeExitCode: number | null;
  error: PlainError;
  timings: LaunchTimings;
}

export type StartResult = StartOk | StartFailed;

export interface CommandResult {
  ok: boolean;
  runtimeExitCode: number | null;
  stdout: string;
  error: PlainError | null;
}

// --- batches --------------------------------------------------------------------------------

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
  type: 'started' | 'finished';
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
