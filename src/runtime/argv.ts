// Pure argv builders, one per runtime verb (runc 1.1 and crun 1.8 share these flags).
// Each takes an options object and returns the verb's args; `extraArgs` is the escape hatch.
import type { RuntimeInvocation } from '../types.js';

/** The full command line for one runtime call: wrapper prefix, global flags, then the verb. */
export function commandLine(runtime: RuntimeInvocation, logFile: string, verbArgs: readonly string[]): { file: string; args: string[] } {
  return {
    file: runtime.file,
    args: [...runtime.prefix, '--root', runtime.root, '--log', logFile, '--log-format', 'json', ...runtime.extraGlobalArgs, ...verbArgs],
  };
}

interface ExtraArgs {
  extraArgs?: readonly string[];
}

export interface RunOptions extends ExtraArgs {
  bundle: string;
  pidFile: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
}

function containerFlags(options: RunOptions): string[] {
  const args = ['--bundle', options.bundle, '--pid-file', options.pidFile];
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  if (options.noPivot === true) args.push('--no-pivot');
  if (options.noNewKeyring === true) args.push('--no-new-keyring');
  return args;
}

/** `run -d`: create and start in one call; the runtime returns once the init is running. */
export function runArgs(id: string, options: RunOptions): string[] {
  return ['run', '-d', ...containerFlags(options), ...(options.extraArgs ?? []), id];
}

/** `create`: the first half of the two-phase start. */
export function createArgs(id: string, options: RunOptions): string[] {
  return ['create', ...containerFlags(options), ...(options.extraArgs ?? []), id];
}

/** `start`: the second half of the two-phase start. */
export function startArgs(id: string): string[] {
  return ['start', id];
}

export interface ExecOptions extends ExtraArgs {
  pidFile: string;
  processFile: string;
  consoleSocket?: string;
}

/** `exec -d`: a new process in a running container, described by a process.json file. */
export function execArgs(id: string, options: ExecOptions): string[] {
  const args = ['exec', '-d', '--pid-file', options.pidFile, '--process', options.processFile];
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  return [...args, ...(options.extraArgs ?? []), id];
}

/** CRIU flags that a checkpoint and its restore must agree on. */
export interface CriuFlags {
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
}

function criuFlags(flags: CriuFlags): string[] {
  const args: string[] = [];
  if (flags.tcpEstablished === true) args.push('--tcp-established');
  if (flags.extUnixSk === true) args.push('--ext-unix-sk');
  if (flags.shellJob === true) args.push('--shell-job');
  if (flags.fileLocks === true) args.push('--file-locks');
  return args;
}

export interface CheckpointOptions extends CriuFlags, ExtraArgs {
  imagePath: string;
  workPath?: string;
  leaveRunning?: boolean;
}

export function checkpointArgs(id: string, options: CheckpointOptions): string[] {
  const args = ['checkpoint', '--image-path', options.imagePath];
  if (options.workPath !== undefined) args.push('--work-path', options.workPath);
  if (options.leaveRunning === true) args.push('--leave-running');
  return [...args, ...criuFlags(options), ...(options.extraArgs ?? []), id];
}

export interface RestoreOptions extends CriuFlags, ExtraArgs {
  bundle: string;
  pidFile: string;
  imagePath: string;
  workPath?: string;
  consoleSocket?: string;
  noPivot?: boolean;
}

export function restoreArgs(id: string, options: RestoreOptions): string[] {
  const args = ['restore', '-d', '--bundle', options.bundle, '--pid-file', options.pidFile];
  args.push('--image-path', options.imagePath);
  if (options.workPath !== undefined) args.push('--work-path', options.workPath);
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  args.push(...criuFlags(options));
  if (options.noPivot === true) args.push('--no-pivot');
  return [...args, ...(options.extraArgs ?? []), id];
}

export function killArgs(id: string, signal: string, options: { all?: boolean } = {}): string[] {
  return options.all === true ? ['kill', '--all', id, signal] : ['kill', id, signal];
}

export function deleteArgs(id: string, options: { force?: boolean } = {}): string[] {
  return options.force === true ? ['delete', '--force', id] : ['delete', id];
}

export function stateArgs(id: string): string[] {
  return ['state', id];
}

export function listArgs(): string[] {
  return ['list', '--format', 'json'];
}

export function pauseArgs(id: string): string[] {
  return ['pause', id];
}

export function resumeArgs(id: string): string[] {
  return ['resume', id];
}
