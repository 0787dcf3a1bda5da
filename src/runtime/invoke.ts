// Spawning one runtime command and turning a failure into a message. The hot-path verbs go
// through the addon's vfork spawner when the launcher chose it (native-spawn.ts), everything else
// and the fallback through execa (execa-spawn.ts, workers only). execa is imported where it is
// used: a worker's entry loads it at start (so that import is then a module-cache hit, which
// needs no fd), and the main thread, whose one runtime call is the native version probe at open,
// never loads it (~65 ms of import).
// Never a stdio pipe: a pipe keeps `run -d` pending until the container exits, and when a spawn
// hits EMFILE Node leaks the pipes it made and execa 9 throws instead of returning a result
// (DESIGN §12). The runtime gets fds: its output goes to unlinked scratch files.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isExhaustionCode, patienceFor, patiently, readTextPatiently, waitBeforeRetry, type Patience } from '../io/exhaustion.js';
import type { PlainError, RuntimeInvocation } from '../types.js';
import { commandLine } from './argv.js';
import { spawnNativeOnce } from './native-spawn.js';
import { notSpawned, runtimeEnvironment, type SpawnOutcome } from './spawn-outcome.js';
import { HYBRID_CGROUP_EXPLANATION, isHybridCgroupRefusal, lastErrorMessage, tail } from './log.js';

export interface InvokeOptions {
  /** fds for the runtime's stdio (the container inherits them with `run -d`); default: output captured. */
  stdio?: { stdin: number; stdout: number; stderr: number };
  /** Kill the runtime (SIGKILL) after this long; 0 = never. */
  timeoutMs?: number;
  /** How long a spawn may wait for fds or processes (EMFILE, ENFILE, EAGAIN); default the timeout, else 60 s. */
  patience?: Patience;
}

export interface InvokeResult {
  /** The runtime process's pid (its helpers' process group and session), or null if not spawned. */
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the runtime could not be spawned at all (ENOENT, EACCES, or EMFILE/EAGAIN beyond the patience). */
  spawnError: { code: string; message: string } | null;
  /** The runtime's output when no stdio fds were given, else ''. */
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Of durationMs, the time spent waiting for fds or processes before a spawn succeeded. */
  waitedMs: number;
}

// Spawned natively when asked: the hot path's verbs (a start, the delete after an exit) and the
// version probe at open (on the main thread: no worker is waited for). The rest (kill, state,
// pause, checkpoint…) are rare: execa is convenient there.
const NATIVE_VERBS = new Set(['run', 'create', 'start', 'restore', 'exec', 'delete', '--version']);

// Per thread: set when the addon's spawner is unsupported here (ENOSYS, EINVAL from clone), so execa serves.
let nativeUnsupported = false;

export async function invokeRuntime(
  runtime: RuntimeInvocation,
  logFile: string,
  verbArgs: readonly string[],
  options: InvokeOptions = {},
): Promise<InvokeResult> {
  const nativeSpawn = runtime.native != null && !nativeUnsupported && NATIVE_VERBS.has(verbArgs[0] ?? '') ? runtime.native : null;
  const { file, args } = commandLine(nativeSpawn === null ? runtime : { ...runtime, file: nativeSpawn.path, prefix: [] }, logFile, verbArgs);
  const began = performance.now();
  const patience = options.patience ?? patienceFor(options.timeoutMs || 60_000);
  const waitedBefore = patience.waitedMs;
  const finish = (outcome: SpawnOutcome, stdout = '', stderr = ''): InvokeResult => ({
    ...outcome,
    stdout,
    stderr,
    durationMs: performance.now() - began,
    waitedMs: patience.waitedMs - waitedBefore,
  });
  // Output files are opened per attempt and closed before a wait: a call that held fds while it
  // waited for more would deadlock with the others under RLIMIT_NOFILE.
  let outcome: SpawnOutcome;
  for (let attempt = 0; ; attempt++) {
    let captures: { stdout: number; stderr: number } | null = null;
    try {
      if (options.stdio === undefined) {
        const dir = dirname(logFile);
        captures = await patiently('opening output files', () => openCaptures(dir), patience);
      }
    } catch (error) {
      return finish(notSpawned((error as { cause?: unknown }).cause ?? error));
    }
    try {
      const stdio = options.stdio ?? { stdin: -1, ...(captures as { stdout: number; stderr: number }) };
      outcome =
        nativeSpawn === null
          ? await spawnThroughExeca(file, args, stdio, options.timeoutMs ?? 0)
          : await spawnNativeOnce(file, args, runtimeEnvironment(), stdio, nativeSpawn.mountNamespace, options.timeoutMs ?? 0);
      if (nativeSpawn !== null && isUnsupportedSpawn(outcome)) {
        nativeUnsupported = true; // an older kernel (no CLONE_PIDFD): the salvo-exec road still works
        return invokeRuntime(runtime, logFile, verbArgs, options);
      }
      if (outcome.spawnError === null || !isExhaustionCode(outcome.spawnError.code)) {
        if (captures === null) return finish(outcome);
        return finish(outcome, withoutFinalNewline(readCapture(captures.stdout)), withoutFinalNewline(readCapture(captures.stderr)));
      }
    } finally {
      if (captures !== null) {
        closeSync(captures.stdout);
        closeSync(captures.stderr);
      }
    }
    if (!(await waitBeforeRetry(patience, attempt))) return finish(outcome);
  }
}

/** The execa spawner, imported on use (in a worker a module-cache hit); an import that fails is a spawn that did not happen. */
async function spawnThroughExeca(
  file: string,
  args: string[],
  stdio: { stdin: number; stdout: number; stderr: number },
  timeoutMs: number,
): Promise<SpawnOutcome> {
  let spawner: typeof import('./execa-spawn.js');
  try {
    spawner = await import('./execa-spawn.js');
  } catch (error) {
    return notSpawned(error);
  }
  return spawner.spawnOnce(file, args, stdio, timeoutMs);
}

function isUnsupportedSpawn(outcome: SpawnOutcome): boolean {
  const code = outcome.spawnError?.code;
  return (code === 'ENOSYS' || code === 'EINVAL') && /\((clone|close_range)\)$/.test(outcome.spawnError?.message ?? '');
}

/** Two unlinked files for a command's stdout and stderr: nothing is left on disk, even after a crash. */
function openCaptures(dir: string): { stdout: number; stderr: number } {
  const stdout = openCapture(dir);
  try {
    return { stdout, stderr: openCapture(dir) };
  } catch (error) {
    closeSync(stdout);
    throw error;
  }
}

function openCapture(dir: string): number {
  const name = `.output-${process.pid}-${randomBytes(6).toString('hex')}`;
  let path = join(dir, name);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    path = join(tmpdir(), name); // the log's directory is gone (gc of a half-made container)
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  }
  unlinkSync(path);
  return fd;
}

/** The whole file from offset 0 (the child's writes moved the shared offset to its end). */
function readCapture(fd: number): string {
  const size = fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const n = readSync(fd, buffer, read, size - read, read);
    if (n === 0) break;
    read += n;
  }
  return buffer.toString('utf8', 0, read);
}

function withoutFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
}

// Reading a failure's log waits a little for a free fd: without it the message would be lost.
const READ_PATIENCE_MS = 5000;

// salvo-exec (native/salvo-exec.c) says this when the runtime binary vanished or lost its x bit.
const EXEC_HELPER_CANNOT_EXEC = /^salvo-exec: exec \S+: (No such file or directory|Permission denied)/m;

/** The error of a failed runtime call: the last error line of log.json, else the stderr tail. */
export async function describeFailure(logFile: string, result: InvokeResult, fallbackOutputFile?: string): Promise<PlainError> {
  if (result.spawnError !== null) {
    if (isExhaustionCode(result.spawnError.code)) {
      return {
        code: 'ERR_RESOURCE_EXHAUSTED',
        message: `cannot spawn the runtime after waiting ${Math.round(result.waitedMs)} ms: ${result.spawnError.message}`,
      };
    }
    return { code: 'ERR_RUNTIME_NOT_FOUND', message: `cannot run the runtime: ${result.spawnError.message}` };
  }
  const log = await readTextPatiently(logFile, patienceFor(READ_PATIENCE_MS));
  let message = lastErrorMessage(log);
  if (message === null) {
    let output = result.stderr;
    if (output === '' && fallbackOutputFile !== undefined) {
      output = await readTextPatiently(fallbackOutputFile, patienceFor(READ_PATIENCE_MS));
    }
    const cannotExec = EXEC_HELPER_CANNOT_EXEC.exec(output);
    if (cannotExec !== null) return { code: 'ERR_RUNTIME_NOT_FOUND', message: `cannot run the runtime: ${cannotExec[0]}` };
    message = tail(output) || `the runtime exited with ${result.exitCode ?? result.signal} and logged no error`;
  }
  if (isHybridCgroupRefusal(message)) {
    return { code: 'ERR_CGROUP_HYBRID', message: `${HYBRID_CGROUP_EXPLANATION} (crun said: ${message})` };
  }
  return { code: 'ERR_RUNTIME_FAILED', message };
}
