// The process directory (DESIGN §4): its paths, its preparation, and the files salvo writes in it.
import { closeSync, constants, linkSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { SalvoError } from '../errors.js';
import { native } from '../native.js';
import { isExhaustion } from './exhaustion.js';
import type { StdioMode } from '../types.js';

export const INIT_EXEC_ID = 'init';

export interface ProcessPaths {
  dir: string;
  log: string;
  pid: string;
  exit: string;
  exitStatus: string;
  config: string;
  processJson: string;
  consoleSocket: string;
  stdoutLog: string;
  stderrLog: string;
  stdoutFifo: string;
  stderrFifo: string;
}

export function containerDir(stateDir: string, id: string): string {
  return join(stateDir, 'containers', id);
}

/**
 * The process directory of one record (one run): `containers/<id>/<execId>.<seq>`, so that a
 * second run of an id (a retry, a rerun) never overwrites the first one's logs. Records from
 * before this layout keep their `containers/<id>/<execId>` (the record's `dir` says which).
 */
export function processDir(stateDir: string, id: string, execId: string, seq: number): string {
  return `${processDirStem(stateDir, id, execId)}${seq}`;
}

/** What the record's seq completes into its process directory (the store numbers it at subscribe). */
export function processDirStem(stateDir: string, id: string, execId: string = INIT_EXEC_ID): string {
  return `${join(stateDir, 'containers', id, execId)}.`;
}

export function processPaths(dir: string): ProcessPaths {
  return {
    dir,
    log: join(dir, 'log.json'),
    pid: join(dir, 'pid'),
    exit: join(dir, 'exit'),
    exitStatus: join(dir, 'exitStatus'),
    config: join(dir, 'config.json'),
    processJson: join(dir, 'process.json'),
    consoleSocket: join(dir, 'console.sock'),
    stdoutLog: join(dir, 'stdout.log'),
    stderrLog: join(dir, 'stderr.log'),
    stdoutFifo: join(dir, 'stdout'),
    stderrFifo: join(dir, 'stderr'),
  };
}

/**
 * A fresh process directory (0700) with its `exit` fifo, and stdio fifos when streaming. The usual
 * case (a new run) is two mkdirs and no lookup: only a name already there is checked (a link is
 * refused) or, for a leftover run directory, removed first.
 */
export function prepareProcessDir(dir: string, stdio: StdioMode): ProcessPaths {
  const paths = processPaths(dir);
  if (!makeDir(dirname(dir))) refuseLinkedContainerDir(dir);
  if (!makeDir(dir)) {
    rmSync(dir, { recursive: true, force: true }); // a seq used again once gc pruned the newest records
    mkdirSync(dir, { mode: 0o700 });
  }
  const addon = native();
  addon.mkfifo(paths.exit, 0o600);
  if (stdio === 'fifo') {
    addon.mkfifo(paths.stdoutFifo, 0o600);
    addon.mkfifo(paths.stderrFifo, 0o600);
  }
  return paths;
}

/** mkdir 0700, its parents too when missing; false when the name is already there. */
function makeDir(path: string): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'ENOENT') throw error;
  }
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return true;
}

/**
 * `containers/<id>` must be a directory of salvo's own: a symlink there would make the rm and
 * mkdir above work on whatever it points at. Refused, never followed (a missing one is made).
 */
export function refuseLinkedContainerDir(dir: string): void {
  const containerDir = dirname(dir);
  let info;
  try {
    info = lstatSync(containerDir);
  } catch {
    return; // not there yet
  }
  if (info.isSymbolicLink() || !info.isDirectory()) {
    const what = info.isSymbolicLink() ? 'a symbolic link' : 'not a directory';
    throw new SalvoError('ERR_STATE_DIR', `${containerDir} is ${what}: salvo does not follow it; remove it and start again`, {
      details: { dir: containerDir },
    });
  }
}

export interface StdioFds {
  stdin: number;
  stdout: number;
  stderr: number;
}

// Per thread, opened once and never closed: every start gets them as stdin (and stdout for 'null').
let devNullRead: number | undefined;
let devNullWrite: number | undefined;

/** True for the shared /dev/null fds, which closeFds leaves open. */
function isDevNull(fd: number): boolean {
  return fd === devNullRead || fd === devNullWrite;
}

/**
 * The fds the runtime (and, with `run -d`, the container) gets as stdio: never pipes, which
 * would keep `run -d` pending until the container exits (DESIGN §12).
 */
export function openRuntimeStdio(paths: ProcessPaths, stdio: StdioMode, stdinFile: string | null = null): StdioFds {
  const opened: number[] = [];
  try {
    const open = (path: string, flags: number): number => {
      const fd = openSync(path, flags, 0o600);
      opened.push(fd);
      return fd;
    };
    devNullRead ??= openSync('/dev/null', constants.O_RDONLY);
    devNullWrite ??= openSync('/dev/null', constants.O_WRONLY);
    const stdin = stdinFile === null ? devNullRead : open(stdinFile, constants.O_RDONLY);
    if (stdio === 'null') return { stdin, stdout: devNullWrite, stderr: devNullWrite };
    if (stdio === 'log') {
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
      return { stdin, stdout: open(paths.stdoutLog, flags), stderr: open(paths.stderrLog, flags) };
    }
    // fifo: the main thread already holds the read ends, so a blocking open returns at once
    // (O_NONBLOCK would stay on the description the container inherits and break its writes).
    const flags = constants.O_WRONLY;
    return { stdin, stdout: open(paths.stdoutFifo, flags), stderr: open(paths.stderrFifo, flags) };
  } catch (error) {
    closeFds(opened);
    throw error;
  }
}

export function closeFds(fds: Iterable<number>): void {
  for (const fd of new Set(fds)) {
    if (isDevNull(fd)) continue;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Writes `exitStatus` atomically, after the record has committed: a hard link to the file for that
 * code in `containers/.exit-status/` (made on first use; `containers/` may be a bind mount of its
 * own, DESIGN §12, and a link cannot cross one), so that no inode is allocated per exit (on ext4
 * without a journal every allocation scans the recently deleted inodes: DESIGN §10); one link(2),
 * which needs no fd. Where that cannot be (a directory outside `containers/`, a link refused:
 * EEXIST, EXDEV, EMLINK), temp + rename. Synchronous on purpose: a few syscalls cost less than
 * fs.promises' FileHandle machinery on the reap path.
 */
export function writeExitStatus(dir: string, exitCode: number): void {
  const path = join(dir, 'exitStatus');
  const shared = sharedExitStatus(dir, exitCode);
  if (shared !== null) {
    const linked = linkQuietly(shared, path);
    if (linked === true || (linked === 'ENOENT' && makeSharedExitStatus(shared, exitCode) && linkQuietly(shared, path) === true)) return;
  }
  const temp = `${path}.tmp`;
  writeFileSync(temp, `${exitCode}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** `containers/.exit-status/<code>` for a process directory `containers/<id>/<run>` (no id starts with a dot); else null. */
function sharedExitStatus(dir: string, exitCode: number): string | null {
  const containers = dirname(dirname(dir));
  if (basename(containers) !== 'containers' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) return null;
  return join(containers, SHARED_EXIT_STATUS_DIR, String(exitCode));
}

export const SHARED_EXIT_STATUS_DIR = '.exit-status';

/** True once linked, else the error's code. */
function linkQuietly(target: string, path: string): true | string {
  try {
    linkSync(target, path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/** The shared file of one exit code, read-only, made atomically (threads may race: same content). */
function makeSharedExitStatus(shared: string, exitCode: number): boolean {
  const temp = `${shared}.${process.pid}.${threadId}.tmp`;
  try {
    mkdirSync(dirname(shared), { recursive: true, mode: 0o700 });
    writeFileSync(temp, `${exitCode}\n`, { mode: 0o400 });
    renameSync(temp, shared);
    return true;
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing was written
    }
    return false;
  }
}

/**
 * writeExitStatus for each, at once: those that could not get an fd (EMFILE, ENFILE) are returned
 * to be written patiently elsewhere; any other failure (disk full) is counted.
 */
export function writeExitStatusesNow<Status extends { dir: string; exitCode: number }>(
  statuses: readonly Status[],
): {
  statuses: Status[];
  failed: number;
} {
  const waiting: Status[] = [];
  let failed = 0;
  for (const status of statuses) {
    try {
      writeExitStatus(status.dir, status.exitCode);
    } catch (error) {
      if (isExhaustion(error)) waiting.push(status);
      else failed++;
    }
  }
  return { statuses: waiting, failed };
}

// The record already holds the exit: this file may wait a while for an fd, not forever.
export const EXIT_STATUS_PATIENCE_MS = 60_000;
