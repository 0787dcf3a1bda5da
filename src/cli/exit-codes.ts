// The CLI's exit statuses, in one place (docs/cli.md lists them).
export const EXIT = {
  ok: 0,
  /** batch: some job did not exit 0. */
  jobsFailed: 1,
  /** Bad command line or input: one clear line, no stack trace. */
  usage: 2,
  /** The launcher could not open or failed underneath (state dir locked, store, subreaper…). */
  launcher: 3,
  /** run: the container ran longer than --timeout and was stopped (as timeout(1) does). */
  timedOut: 124,
  /** run: the container did not start (the runtime failed); as docker and podman do. */
  startFailed: 125,
  /** Stopped by SIGHUP (the terminal or SSH session closed): 128 + 1. */
  hangup: 129,
  /** run, exec: the command was found but cannot be executed (as docker and sh do). */
  cannotExecute: 126,
  /** run, exec: the command was not found (as docker and sh do). */
  notFound: 127,
  /** Stopped by SIGINT: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

/** An error in what the user typed or fed in: printed as one line, exit status 2. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Error codes that mean a container or exec did not start (the runtime failed): exit 125. */
const START_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ERR_RUNTIME_FAILED',
  'ERR_RUNTIME_HUNG',
  'ERR_CGROUP_HYBRID',
  // the image could not be had: the container did not start (125), salvo itself is fine
  'ERR_IMAGE_NOT_FOUND',
  'ERR_IMAGE_LAYOUT',
  'ERR_IMAGE_DIGEST',
  'ERR_IMAGE_UNSAFE',
  'ERR_IMAGE_MOUNT',
]);

export function isStartFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && START_FAILURE_CODES.has(code);
}

/** Error codes that mean the user asked for something impossible (exit 2), not a launcher failure (exit 3). */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ERR_INVALID_OPTION',
  'ERR_INVALID_SPEC',
  'ERR_INVALID_ID',
  'ERR_RUNTIME_NOT_FOUND',
  'ERR_BUNDLE_NOT_FOUND',
  'ERR_BUNDLE_INVALID',
  'ERR_DEFAULT_BUNDLE',
  'ERR_NOT_FOUND',
  'ERR_CONTAINER_STOPPED',
]);

// What runc and crun say when the command itself is the problem, not the container.
const NOT_FOUND = [
  /exec: "[^"]*": (?:stat [^:]*: no such file or directory|executable file not found in \$PATH)/,
  /executable file `[^`]*` not found in \$PATH/,
];
const CANNOT_EXECUTE = [
  /exec: "[^"]*": (?:permission denied|exec format error|is a directory)/,
  /open executable: (?:Permission denied|Operation not permitted)/,
  /exec(?:ve)? .*: Exec format error/,
];

/** docker's exit status for a start that failed: 127 command not found, 126 cannot execute, else 125. */
export function startFailureExit(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  if (NOT_FOUND.some((pattern) => pattern.test(message))) return EXIT.notFound;
  if (CANNOT_EXECUTE.some((pattern) => pattern.test(message))) return EXIT.cannotExecute;
  return EXIT.startFailed;
}
