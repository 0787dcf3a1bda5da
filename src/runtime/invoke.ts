// Spawning one runtime command (workers only) and turning a failure into a message.
// node:child_process directly, not execa, and never a stdio pipe: when spawn hits EMFILE, execa 9
// throws a TypeError and leaves the child's 'error' event unheard (the worker thread dies), and
// Node itself leaks the pipes it made (DESIGN §12). Output goes to unlinked scratch files instead.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isExhaustionCode, patienceFor, patiently, readTextPatiently, waitBeforeRetry, type Patience } from '../io/exhaustion.js';
import type { PlainError, RuntimeInvocation } from '../types.js';
import { commandLine } from './argv.js';
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

type SpawnOutcome = Pick<InvokeResult, 'pid' | 'exitCode' | 'signal' | 'timedOut' | 'spawnError'>;

export async function invokeRuntime(
  runtime: RuntimeInvocation,
  logFile: string,
  verbArgs: readonly string[],
  options: InvokeOptions = {},
): Promise<InvokeResult> {
  const { file, args } = commandLine(runtime, logFile, verbArgs);
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
    let outcome: SpawnOutcome;
    for (let attempt = 0; ; attempt++) {
      outcome = await spawnOnce(file, args, runtime.env, stdio, options.timeoutMs ?? 0);
      if (outcome.spawnError === null || !isExhaustionCode(outcome.spawnError.code)) break;
      if (!(await waitBeforeRetry(patience, attempt))) break;
    }
    if (captures === null) return finish(outcome);
    return finish(outcome, withoutFinalNewline(readCapture(captures.stdout)), withoutFinalNewline(readCapture(captures.stderr)));
  } finally {
    if (captures !== null) {
      closeSync(captures.stdout);
      closeSync(captures.stderr);
    }
  }
}

/** stdin -1 means none ('ignore'). */
function spawnOnce(
  file: string,
  args: string[],
  env: Record<string, string>,
  stdio: { stdin: number; stdout: number; stderr: number },
  timeoutMs: number,
): Promise<SpawnOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { env, stdio: [stdio.stdin < 0 ? 'ignore' : stdio.stdin, stdio.stdout, stdio.stderr] });
    } catch (error) {
      resolve(notSpawned(error));
      return;
    }
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutMs)
        : undefined;
    let settled = false;
    const settle = (outcome: SpawnOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    child.once('error', (error) => {
      // Only a failed spawn has no pid; a later error (a failed kill) waits for 'close'.
      if (child.pid === undefined) settle(notSpawned(error));
    });
    child.once('close', (exitCode, signal) => settle({ pid: child.pid ?? null, exitCode, signal, timedOut, spawnError: null }));
  });
}

function notSpawned(error: unknown): SpawnOutcome {
  const cause = error as NodeJS.ErrnoException;
  return {
    pid: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    spawnError: { code: cause.code ?? 'ESPAWN', message: cause.message ?? String(error) },
  };
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
export async function describeFailure(
  logFile: string,
  result: InvokeResult,
  fallbackOutputFile?: string,
): Promise<PlainError> {
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
