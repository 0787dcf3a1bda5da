// Spawning one runtime command with execa (workers only) and turning a failure into a message.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { PlainError, RuntimeInvocation } from '../types.js';
import { commandLine } from './argv.js';
import { HYBRID_CGROUP_EXPLANATION, isHybridCgroupRefusal, lastErrorMessage, tail } from './log.js';

export interface InvokeOptions {
  /** fds for the runtime's stdio (the container inherits them with `run -d`); default pipes. */
  stdio?: { stdin: number; stdout: number; stderr: number };
  /** Kill the runtime (SIGKILL) after this long; 0 = never. */
  timeoutMs?: number;
}

export interface InvokeResult {
  /** The runtime process's pid (its helpers' process group and session), or null if not spawned. */
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the runtime could not be spawned at all (ENOENT, EACCES, EAGAIN…). */
  spawnError: { code: string; message: string } | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

let environment: Record<string, string> | undefined;

/** The runtime's environment: this process's, minus NOTIFY_SOCKET (DESIGN §13); computed once per thread. */
export function runtimeEnvironment(): Record<string, string> {
  if (environment !== undefined) return environment;
  environment = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'NOTIFY_SOCKET') environment[key] = value;
  }
  return environment;
}

// execa hands any integer fd straight to child_process; its types only list 0-9.
const fdOption = (fd: number): 3 => fd as 3;

export async function invokeRuntime(
  runtime: RuntimeInvocation,
  logFile: string,
  verbArgs: readonly string[],
  options: InvokeOptions = {},
): Promise<InvokeResult> {
  const { file, args } = commandLine(runtime, logFile, verbArgs);
  const began = performance.now();
  const subprocess = execa(file, args, {
    env: runtimeEnvironment(),
    extendEnv: false,
    reject: false,
    stripFinalNewline: true,
    timeout: options.timeoutMs ?? 0,
    killSignal: 'SIGKILL',
    stdin: options.stdio === undefined ? 'ignore' : fdOption(options.stdio.stdin),
    stdout: options.stdio === undefined ? 'pipe' : fdOption(options.stdio.stdout),
    stderr: options.stdio === undefined ? 'pipe' : fdOption(options.stdio.stderr),
  });
  const pid = subprocess.pid ?? null;
  const result = await subprocess;
  const cause = result.cause as NodeJS.ErrnoException | undefined;
  const spawned = result.exitCode !== undefined || result.signal !== undefined;
  return {
    pid,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    timedOut: result.timedOut,
    spawnError:
      !spawned && cause !== undefined ? { code: cause.code ?? 'ESPAWN', message: cause.message } : null,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    durationMs: performance.now() - began,
  };
}

/** The error of a failed runtime call: the last error line of log.json, else the stderr tail. */
export async function describeFailure(
  logFile: string,
  result: InvokeResult,
  fallbackOutputFile?: string,
): Promise<PlainError> {
  if (result.spawnError !== null) {
    return { code: 'ERR_RUNTIME_NOT_FOUND', message: `cannot run the runtime: ${result.spawnError.message}` };
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  let message = lastErrorMessage(log);
  if (message === null) {
    let output = result.stderr;
    if (output === '' && fallbackOutputFile !== undefined) {
      output = await readFile(fallbackOutputFile, 'utf8').catch(() => '');
    }
    message = tail(output) || `the runtime exited with ${result.exitCode ?? result.signal} and logged no error`;
  }
  if (isHybridCgroupRefusal(message)) {
    return { code: 'ERR_CGROUP_HYBRID', message: `${HYBRID_CGROUP_EXPLANATION} (crun said: ${message})` };
  }
  return { code: 'ERR_RUNTIME_FAILED', message };
}
