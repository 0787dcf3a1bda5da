// Public types of a start: the launcher's options, a container's start spec and its
// docker-familiar fields, an exec's spec. No imports.

/** Where a process's stdout and stderr go (stdin is always /dev/null unless a terminal). */
export type StdioMode = 'null' | 'log' | 'fifo';

/**
 * With stdio 'fifo', called once the fifos exist and before the runtime is spawned; the launcher
 * then opens no read end itself (the Proc's stdout/stderr are null). It must resolve only once both
 * read ends are open (the runtime gets the write ends while a reader exists) and keep a writer of
 * its own open until the start settles; rejecting fails the start.
 */
export type FifoHandoff = (fifos: { stdout: string; stderr: string }) => Promise<void>;

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
  /** Worker threads that spawn runtime commands. Default 1: a spawn is mostly waiting, and every
   * thread makes each fork() of the launcher dearer. */
  workers?: number;
  /** Runtime commands one worker runs at once. Default 16. */
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
  /**
   * How a worker spawns the runtime for starts, execs and deletes: 'native' (the addon's vfork
   * spawner: no fork of the launcher, DESIGN §5) or 'execa' (child_process, through salvo-exec).
   * The version probe at open uses it too (on the main thread); other commands use execa. Default 'native'.
   */
  spawner?: 'native' | 'execa';
  /**
   * A bundle's OCI hooks run host commands as root, outside the container: 'refuse' fails the
   * start of a bundle that has any (ERR_BUNDLE_INVALID). Default 'allow'.
   */
  bundleHooks?: 'allow' | 'refuse';
  logger?: Logger;
}

export interface StartSpec {
  /** Container id: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$. */
  id: string;
  /** OCI bundle directory. Default: salvo's busybox bundle. */
  bundle?: string;
  /** Run from an image instead of a bundle: `oci:DIR[:TAG]` or `docker-archive:FILE[:REF]` (docs/images.md). */
  image?: string;
  /** With an image: replaces its Entrypoint (and drops its Cmd), as `docker run --entrypoint` does. */
  entrypoint?: string[];
  /** With an image: no overlay, the image's rootfs read-only with a tmpfs on /tmp; else root.readonly of the derived config. */
  readOnly?: boolean;
  /** Override process.args. */
  args?: string[];
  /** Environment for the container's process, merged over the bundle's (never the runtime's). */
  env?: Record<string, string> | string[];
  /** Override process.cwd. */
  cwd?: string;
  /** Run with a terminal (pty): the Proc gets `terminal`. */
  terminal?: boolean;
  /** The terminal's size when the process starts. Default 80×24. */
  terminalSize?: TerminalSize;
  /** stdout/stderr: 'log' (files in the process directory, default), 'null', or 'fifo' (streams). */
  stdio?: StdioMode;
  /** With stdio 'fifo': the caller opens the read ends itself (another process); see FifoHandoff. */
  fifoHandoff?: FifoHandoff;
  /**
   * With terminal: a unix socket another process listens on (absolute path): the runtime sends the
   * pty master there (SCM_RIGHTS), to that process, and the Proc's `terminal` is null.
   */
  consoleSocket?: string;
  /** A file the process reads as stdin (opened by salvo; `salvo run -i` gives its own /proc/PID/fd/0). Default /dev/null. */
  stdin?: string;
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
  /** Restore from a checkpoint (`restore -d`) instead of running the bundle's process afresh. */
  checkpoint?: CheckpointRef;
  // --- docker-familiar fields, applied to the derived config (src/bundle/container-config.ts) ---
  /** Bind mounts as docker's -v: 'SRC:DST[:ro|:rw]' (SRC an existing host path). */
  volumes?: string[];
  /** Mounts as docker's --mount: 'type=bind,src=…,dst=…[,readonly]' or 'type=tmpfs,dst=…'. */
  mounts?: string[];
  /** tmpfs mounts: 'DST' or 'DST:OPTIONS' (e.g. '/run:size=64m'). */
  tmpfs?: string[];
  /** 'UID[:GID]' or 'NAME[:GROUP]' (names from the rootfs's /etc/passwd and /etc/group), a uid, or a ProcessUser. */
  user?: string | number | ProcessUser;
  /** The container's hostname (a private UTS namespace). */
  hostname?: string;
  /** 'none': a private network namespace with only lo (the default bundle's); 'host': the host's network. */
  network?: NetworkMode;
  /** Memory limit: bytes, or a size such as '512m' (linux.resources.memory.limit). */
  memory?: number | string;
  /** CPU limit in CPUs, e.g. 1.5 (linux.resources.cpu quota/period). */
  cpus?: number;
  /** Most processes the container may hold (linux.resources.pids.limit). */
  pidsLimit?: number;
  /** Capabilities to add ('CHOWN' or 'CAP_CHOWN'; 'ALL' for all). */
  capAdd?: string[];
  /** Capabilities to drop ('ALL' for all; applied before capAdd). */
  capDrop?: string[];
  /**
   * Run salvo's small init as pid 1 (signals forwarded, zombies reaped, the command's exit as its
   * own). Default true for the default bundle and images (their own pid namespace), false for a bundle of yours.
   */
  init?: boolean;
  /**
   * Share the host's pid namespace (the bundle's pid namespace is dropped): the container can then
   * see every host process and signal the ones its user may. Default false; init then defaults to false.
   */
  hostPid?: boolean;
  /**
   * Most bytes kept of each of stdout.log and stderr.log (stdio 'log'): bytes, or '16m'; 0 keeps
   * everything. Default 16 MiB. Beyond it the tail is kept, from a line boundary, under a one-line
   * marker that says how much was cut; under salvo's init the file never grows much past it while
   * the job runs (DESIGN §4).
   */
  logLimit?: number | string;
}

export type NetworkMode = 'none' | 'host';

/** An OCI mount entry, as config.json holds it. */
export interface MountEntry {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** The docker-familiar start fields, validated: plain data for the worker that derives the config. */
export interface ContainerOptions {
  /** Appended to config.mounts in this order (volumes, mounts, tmpfs). */
  mounts?: MountEntry[];
  /** Resolved against the rootfs's /etc/passwd and /etc/group when the config is derived. */
  user?: UserRef;
  hostname?: string;
  network?: NetworkMode;
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  readOnly?: boolean;
  /** Normalized names (CAP_…); 'ALL' stands for every capability. */
  capAdd?: string[];
  capDrop?: string[];
}

/** A user as given: a name or a number each, the group optional. */
export interface UserRef {
  user: string | number;
  group?: string | number;
  additionalGids?: number[];
}

/** Which checkpoint to restore: by name (`<bundle>/checkpoints/<name>`) or by directory. */
export interface CheckpointRef {
  name?: string;
  dir?: string;
  /** CRIU's work directory (its restore.log). Default: the image directory. */
  workDir?: string;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** The numeric user a process runs as (OCI process.user). */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** A process to run in a running container (`launcher.exec`). */
export interface ExecSpec {
  /** The command (process.args): required. */
  args: string[];
  /** Environment merged over the container's process env. */
  env?: Record<string, string> | string[];
  /** Working directory (absolute). Default: the container's. */
  cwd?: string;
  /** User to run as. Default: the container's. */
  user?: ProcessUser;
  /** Run with a terminal (pty): the Proc gets `terminal`. */
  terminal?: boolean;
  /** The terminal's size when the process starts. Default 80×24. */
  terminalSize?: TerminalSize;
  /** stdout/stderr: 'log' (default), 'null' or 'fifo' (streams). */
  stdio?: StdioMode;
  /** With stdio 'fifo': the caller opens the read ends itself (another process); see FifoHandoff. */
  fifoHandoff?: FifoHandoff;
  /**
   * With terminal: a unix socket another process listens on (absolute path): the runtime sends the
   * pty master there (SCM_RIGHTS), to that process, and the Proc's `terminal` is null.
   */
  consoleSocket?: string;
  /** Id of the exec'd process within its container. Default `exec-<n>`. */
  execId?: string;
  /** Free-form labels stored with the record. */
  labels?: Record<string, string>;
}
