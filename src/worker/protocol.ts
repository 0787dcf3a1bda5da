// The worker protocol: every task the main thread sends to a worker and the plain result it gets
// back, as one map from task kind to { task, result }, so that `pool.run('start', task)` is typed
// end to end. Plain data only: it crosses a thread boundary by structured clone.
import type {
  ContainerIsolation,
  CriuOptions,
  ImageRootfs,
  LaunchTimings,
  MountHelper,
  PlainError,
  ProcessOverride,
  RuntimeInvocation,
  StartMode,
  StdioMode,
} from '../types.js';

/** Where a restore takes its images from (the worker reads salvo-checkpoint.json there). */
export interface RestorePlan {
  imagePath: string;
  workPath: string | null;
}

/** The container's init: `run -d`, `create` then `start`, or `restore -d`. */
export interface InitProcess {
  kind: 'init';
  startMode: StartMode;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** Restore from these images instead of running. */
  restore: RestorePlan | null;
}

/** A process exec'd into the running container (`exec -d --process process.json`). */
export interface ExecProcess {
  kind: 'exec';
  /** The init's process directory: its derived config.json, if any, is the container's config. */
  initDir: string;
}

/** DESIGN §3 steps 2–3 for an init or an exec: prepare, spawn the runtime, read the pid. */
export interface StartTask {
  runtime: RuntimeInvocation;
  id: string;
  /** The process directory (pid, log.json, stdio; process.json for an exec). */
  dir: string;
  /** The bundle (for an exec: the container's, whose config.json is used when the init has no derived one). */
  bundle: string;
  override: ProcessOverride | null;
  stdio: StdioMode;
  /** True when a prepare task already made the process directory (fifos or a console socket are in it). */
  prepared: boolean;
  /** A spawn gate (src/io/spawn-gate.ts): prepare at once, spawn once a slot is free. */
  gate: SharedArrayBuffer | null;
  /** The console socket the main thread listens on (terminal: true), else null. */
  consoleSocket: string | null;
  /** The file opened as the process's stdin; null for /dev/null. */
  stdin: string | null;
  timeoutMs: number;
  queuedAt: number;
  process: InitProcess | ExecProcess;
  /** An init from an image: its root filesystem (an overlay in the process directory), else null. */
  image: ImageRootfs | null;
  /** What salvo sets on an init's config unless the bundle sets it (its cgroup); null for an exec. */
  isolation: ContainerIsolation | null;
}

export type StartResult =
  | {
      ok: true;
      pid: number;
      pidStartTime: number;
      timings: LaunchTimings;
      /** When the runtime was spawned (epoch ms, sub-ms precision). */
      spawnedAt: number;
    }
  | { ok: false; runtimeExitCode: number | null; error: PlainError; timings: LaunchTimings; spawnedAt: number | null };

/** DESIGN §3 step 2 alone: validate the bundle, make the process directory, derive the config. */
export interface PrepareTask {
  dir: string;
  /** null: only the process directory (the main thread then opens fifos or a console socket in it). */
  bundle: string | null;
  override: ProcessOverride | null;
  stdio: StdioMode;
  image?: ImageRootfs | null;
  isolation?: ContainerIsolation | null;
}

export type PrepareResult =
  /** `bundle` is what the runtime gets: the process directory when a config was derived; `init`: it runs salvo-init. */
  { ok: true; bundle: string; init: boolean; prepareMs: number } | { ok: false; error: PlainError; prepareMs: number };

export interface CheckpointTask {
  runtime: RuntimeInvocation;
  id: string;
  imagePath: string;
  workPath: string | null;
  leaveRunning: boolean;
  criu: CriuOptions;
  logFile: string;
  timeoutMs: number;
}

export interface RuntimeCommandTask {
  runtime: RuntimeInvocation;
  /** The verb and its args, already built. */
  args: string[];
  /** Where the runtime's log goes, so an error can be read back. */
  logFile: string;
  timeoutMs: number;
}

export interface DeleteTask {
  runtime: RuntimeInvocation;
  id: string;
  force: boolean;
  logFile: string;
  /** Unmount salvo's overlays in the log file's directory after the delete (an image's rootfs). */
  unmount?: MountHelper;
}

/** Unmount salvo's overlays under these directories (gc, recovery). */
export interface UnmountTask {
  mount: MountHelper;
  dirs: string[];
}

export type CommandResult =
  { ok: true; runtimeExitCode: 0; stdout: string } | { ok: false; runtimeExitCode: number | null; stdout: string; error: PlainError };

/** exitStatus files of one reap pass, written after their rows committed. */
export interface ExitStatusTask {
  /** With logLimit > 0 its log files are cut to their tail first (DESIGN §4). */
  statuses: { dir: string; exitCode: number; logLimit: number }[];
}

export interface WorkerProtocol {
  start: { task: StartTask; result: StartResult };
  prepare: { task: PrepareTask; result: PrepareResult };
  checkpoint: { task: CheckpointTask; result: CommandResult };
  command: { task: RuntimeCommandTask; result: CommandResult };
  delete: { task: DeleteTask; result: CommandResult };
  'exit-status': { task: ExitStatusTask; result: { failed: number } };
  unmount: { task: UnmountTask; result: { unmounted: number } };
}

export type TaskKind = keyof WorkerProtocol;
export type TaskOf<K extends TaskKind> = WorkerProtocol[K]['task'];
export type ResultOf<K extends TaskKind> = WorkerProtocol[K]['result'];

/** What crosses to the worker: a task tagged with its kind. */
export type WorkerMessage = { [K in TaskKind]: { kind: K; task: TaskOf<K> } }[TaskKind];
