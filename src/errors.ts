// Every error salvo throws or reports: one base class, a stable string code per failure.

/** Every code salvo uses, with the one-line meaning that docs/errors.md repeats (a test checks). */
export const ERROR_CODES = {
  ERR_INVALID_OPTION: 'A launcher or command option has a bad value; the message names it.',
  ERR_INVALID_SPEC: 'A start, exec or job spec is malformed; the message names the field.',
  ERR_INVALID_ID: 'A container or exec id does not match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$.',
  ERR_ID_IN_USE: 'A container (or exec) with this id is still subscribed or running.',
  ERR_DUPLICATE_ID: 'Two jobs of one batch have the same container id; the later one is not run.',
  ERR_NOT_FOUND: 'No container or record with this id.',
  ERR_BUNDLE_NOT_FOUND: 'The bundle directory or its config.json does not exist.',
  ERR_BUNDLE_INVALID: "The bundle's config.json is not valid JSON, lacks root.path/process, or its rootfs is missing.",
  ERR_DEFAULT_BUNDLE: 'The default busybox bundle cannot be built (is busybox-static installed?).',
  ERR_RUNTIME_NOT_FOUND: 'The runtime binary (runc, crun or a path) is missing or not executable.',
  ERR_RUNTIME_FAILED: 'The runtime exited non-zero; the message is its last log.json error line.',
  ERR_RUNTIME_HUNG: 'The runtime did not return within the start timeout and was killed.',
  ERR_RESOURCE_EXHAUSTED: 'No file descriptor or process could be had (EMFILE, ENFILE, EAGAIN) within the start timeout.',
  ERR_CGROUP_HYBRID: 'crun refused the hybrid cgroup layout of this host (see docs/errors.md).',
  ERR_STATE_DIR: 'The state directory cannot be created, is not writable, or others can write it.',
  ERR_STATE_LOCKED: 'Another launcher holds this state directory.',
  ERR_SERVER: 'The serving launcher of a state directory could not be reached or started, or went away mid-request.',
  ERR_SERVER_STOPPING: 'The serving launcher is stopping (idle exit or salvo serve --stop): a client waits for it to go and starts a new one.',
  ERR_STORE: 'The SQLite store could not be opened or written.',
  ERR_STORE_FULL: 'The store could not be written: its disk is full (SQLITE_FULL, ENOSPC, EDQUOT).',
  ERR_STORE_IO: 'The store could not be read or written: an I/O error (SQLITE_IOERR_*).',
  ERR_STORE_BUSY: 'The store stayed locked by another connection past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).',
  ERR_STORE_CORRUPT: 'The store file is corrupt or not a database (SQLITE_CORRUPT, SQLITE_NOTADB).',
  ERR_STORE_READONLY: 'The store cannot be written: a read-only file or filesystem (SQLITE_READONLY_*).',
  ERR_EXIT_NOT_RECORDED: 'A process exited but the store could not commit its exit before the launcher closed.',
  ERR_SUBREAPER: 'prctl(PR_SET_CHILD_SUBREAPER) failed, so exits cannot be collected.',
  ERR_NATIVE: 'The native addon is missing or failed (run npm install / npm rebuild).',
  ERR_LAUNCHER_CLOSED: 'The launcher is closing or closed and takes no new work.',
  ERR_ABORTED: 'The operation was aborted by its AbortSignal before it finished.',
  ERR_TIMEOUT: 'A batch job ran longer than its timeout and was stopped (SIGTERM, grace, SIGKILL).',
  ERR_CONTAINER_STOPPED: 'The container is not running, so the operation cannot apply to it.',
  ERR_TERMINAL_CLOSED: "The process's terminal is closed (its process ended or the stream was destroyed).",
  ERR_CHECKPOINT_NOT_FOUND: 'The checkpoint directory to restore from does not exist.',
  ERR_CHECKPOINT_INVALID: "A checkpoint's salvo-checkpoint.json is not the JSON salvo writes.",
  ERR_IMAGE_NOT_FOUND: 'The image reference is malformed, or names a layout, archive or tag that does not exist.',
  ERR_IMAGE_LAYOUT: 'The image is not an OCI image layout or docker save archive salvo can read (the message names the file or blob).',
  ERR_IMAGE_DIGEST: "A blob's sha256 or size does not match its descriptor (the message names the image and blob).",
  ERR_IMAGE_UNSAFE: "A layer entry would land outside the rootfs (absolute path, '..', a symlinked parent); names image, blob and path.",
  ERR_IMAGE_MOUNT: "The container's overlay root filesystem could not be mounted (the message is mount's).",
  ERR_REDIS_UNREACHABLE: 'Redis cannot be reached (or refuses the credentials) when a fleet command starts.',
  ERR_NODE_LOST: 'A fleet job got no result: the nodes that ran it kept being lost (or its launcher kept failing).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SalvoErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** The one error class of salvo: `code` is stable, `message` is for people. */
export class SalvoError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SalvoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SalvoError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The plain shape that crosses threads and goes into JSON results. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A runtime command that exited non-zero: the start (or exec, kill…) failed. */
export class RuntimeError extends SalvoError {
  readonly runtimeExitCode: number | null;

  constructor(
    code: 'ERR_RUNTIME_FAILED' | 'ERR_RUNTIME_HUNG' | 'ERR_CGROUP_HYBRID' | 'ERR_CONTAINER_STOPPED',
    message: string,
    runtimeExitCode: number | null,
    options: SalvoErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'RuntimeError';
    this.runtimeExitCode = runtimeExitCode;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * An error as the plain `{ code, message }` that crosses a thread or lands in a job result: a
 * salvo code is kept; anything else becomes `fallback`, its message prefixed with `context`.
 */
export function plainError(error: unknown, fallback: ErrorCode = 'ERR_RUNTIME_FAILED', context = ''): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) return { code, message };
  return { code: fallback, message: context === '' ? message : `${context}: ${message}` };
}

/** Rebuilds a SalvoError from the plain `{ code, message }` a worker returned. */
export function errorFromPlain(plain: { code: string; message: string }, runtimeExitCode: number | null = null): SalvoError {
  const code = isErrorCode(plain.code) ? plain.code : 'ERR_RUNTIME_FAILED';
  if (code === 'ERR_RUNTIME_FAILED' || code === 'ERR_RUNTIME_HUNG' || code === 'ERR_CGROUP_HYBRID' || code === 'ERR_CONTAINER_STOPPED') {
    return new RuntimeError(code, plain.message, runtimeExitCode);
  }
  return new SalvoError(code, plain.message);
}
