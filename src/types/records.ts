// Public types of what salvo records and reports: checkpoints, runtime state, exits, store
// records, cleanups and launch timings. No imports.

/** CRIU flags a checkpoint is made with; salvo stores them so the restore uses the same. */
export interface CriuOptions {
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
}

export interface CheckpointSpec extends CriuOptions {
  /** Images go to `<bundle>/checkpoints/<name>` unless `dir` is given. */
  name?: string;
  dir?: string;
  /** CRIU's work directory (its dump.log). Default: the image directory. */
  workDir?: string;
  /** Keep the container running after the checkpoint. Default false (it stops). */
  leaveRunning?: boolean;
}

/** `runtime state ID`, parsed (the OCI state, plus what runc and crun add). */
export interface RuntimeState {
  ociVersion: string;
  id: string;
  /** 'created' | 'running' | 'paused' | 'stopped' (and 'pausing' for runc). */
  status: string;
  pid: number;
  bundle: string;
  rootfs?: string;
  created?: string;
  owner?: string;
  annotations?: Record<string, string>;
}

export interface CheckpointResult {
  id: string;
  /** The directory holding CRIU's images and salvo-checkpoint.json. */
  dir: string;
  leftRunning: boolean;
}

export interface Rusage {
  userMs: number;
  systemMs: number;
  maxRssKb: number;
}

export type ExitState = 'exited' | 'lost';

export interface Exit {
  id: string;
  /**
   * True once the store has committed this exit. False only when the launcher closed before the
   * store could (a full disk): the status is the kernel's but no record says so (ERR_EXIT_NOT_RECORDED).
   */
  recorded: boolean;
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
  /**
   * Only on a container's newest init record, in the live view of the launcher that runs it (not
   * stored): its runtime delete after the exit failed and is retried, or was given up on for gc.
   */
  cleanup?: Cleanup;
}

/** A container whose runtime delete after its exit failed (`salvo ps` shows it until it is gone). */
export interface Cleanup {
  /** 'pending': retried with backoff; 'failed': the retries are spent, `gc` deletes it. */
  state: 'pending' | 'failed';
  /** Deletes tried so far. */
  attempts: number;
  /** The runtime's last error. */
  error: string;
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
