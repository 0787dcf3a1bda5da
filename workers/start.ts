// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn, read the pid, or report why not.
// Out of fds or processes (EMFILE, ENFILE, EAGAIN), every step waits and retries within the start
// timeout, and the wait is reported in timings.waitedMs.
import { existsSync, rmSync, rmdirSync, statfsSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkRootfs, deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { isErrorCode } from '../src/errors.js';
import { patienceFor, patiently, readTextPatiently, waitBeforeRetry, type Patience } from '../src/io/exhaustion.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths, type ProcessPaths } from '../src/io/process-dir.js';
import { readProcStat, type ProcStat } from '../src/io/procfs.js';
import { createArgs, deleteArgs, killArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import { mentionsResourceExhaustion } from '../src/runtime/log.js';
import type { PlainError, StartResult, StartTask } from '../src/types.js';

const now = (): number => performance.timeOrigin + performance.now();

export async function startContainer(task: StartTask): Promise<StartResult> {
  const began = now();
  const patience = patienceFor(task.timeoutMs);
  const timings = { queuedMs: Math.max(0, began - task.queuedAt), prepareMs: 0, runtimeMs: 0, waitedMs: 0 };
  const failed = (error: PlainError, runtimeExitCode: number | null = null): StartResult => {
    timings.waitedMs = patience.waitedMs;
    return { ok: false, runtimeExitCode, error, timings };
  };

  let paths: ProcessPaths;
  let bundle = task.bundle;
  try {
    const config = await patiently('reading the bundle', () => checkedConfig(task.bundle), patience);
    paths = await patiently(
      'preparing the process directory',
      () => (task.prepared ? processPaths(task.dir) : prepareProcessDir(task.dir, task.stdio)),
      patience,
    );
    if (task.override !== null) {
      const derived = deriveConfig(config, task.bundle, task.override);
      await patiently('writing the derived config.json', () => writeConfig(task.dir, derived), patience);
      bundle = task.dir;
    }
  } catch (error) {
    timings.prepareMs = now() - began;
    if (!task.prepared) removeQuietly(task.dir); // nothing half-made is left behind
    return failed(plainError(error));
  }
  const spawnedAt = now();
  timings.prepareMs = spawnedAt - began;

  let result: InvokeResult;
  try {
    for (let attempt = 0; ; attempt++) {
      result = await spawnRuntime(task, paths, bundle, patience);
      if (!(await ranOutOfResources(task, paths, result))) break;
      // runc or crun could not fork or open: undo the half-made container and try again.
      await removeContainer(task, paths.log, false);
      resetProcessFiles(paths);
      if (!(await waitBeforeRetry(patience, attempt))) break;
    }
  } catch (error) {
    timings.runtimeMs = now() - spawnedAt;
    return failed(plainError(error));
  }
  timings.runtimeMs = now() - spawnedAt;

  if (result.timedOut) {
    await removeContainer(task, paths.log, true);
    return failed(
      { code: 'ERR_RUNTIME_HUNG', message: `the runtime did not return within ${task.timeoutMs} ms and was killed` },
      result.exitCode,
    );
  }
  if (result.exitCode !== 0) {
    const error = whenDiskFull(paths, await describeFailure(paths.log, result, task.stdio === 'log' ? paths.stderrLog : undefined));
    if (result.spawnError === null) await removeContainer(task, paths.log, false);
    return failed(error, result.exitCode);
  }
  let stat: ProcStat | null = null;
  const pid = Number.parseInt(await readTextPatiently(paths.pid, patience), 10);
  try {
    if (Number.isInteger(pid) && pid > 0) stat = await patiently('reading /proc', () => readProcStat(pid), patience);
    if (stat !== null) stat = await untilOurChild(pid, stat, patience);
  } catch {
    // no fd came free in time: the start fails below and the container is removed
  }
  if (stat === null) {
    await removeContainer(task, paths.log, true);
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  timings.waitedMs = patience.waitedMs;
  return { ok: true, pid, pidStartTime: stat.startTime, timings };
}

/**
 * `crun run -d` returns while its detached helper may still be the container's parent (it
 * exits a moment later, slower under load). An exit in that window would be unreadable (wait4:
 * ECHILD) and the record lost, so wait until the container is re-parented to this subreaper.
 * Null when it is gone meanwhile; the stat as it is when the start timeout runs out.
 */
async function untilOurChild(pid: number, stat: ProcStat, patience: Patience): Promise<ProcStat | null> {
  const reparenting: Patience = { until: patience.until, waitedMs: 0 }; // not a wait for resources
  let current: ProcStat | null = stat;
  for (let attempt = 0; current !== null && current.ppid !== process.pid; attempt++) {
    if (!(await waitBeforeRetry(reparenting, attempt))) return current;
    current = await patiently('reading /proc', () => readProcStat(pid), patience);
    if (current !== null && current.startTime !== stat.startTime) current = null; // gone, and its pid reused
  }
  return current;
}

/**
 * A runtime that could not write its log, pid file or output says nothing at all: when the
 * process directory's filesystem is full, say that instead (ERR_STATE_DIR).
 */
function whenDiskFull(paths: ProcessPaths, error: PlainError): PlainError {
  if (error.code !== 'ERR_RUNTIME_FAILED' || !isFull(paths.dir)) return error;
  return {
    code: 'ERR_STATE_DIR',
    message: `no space left on the filesystem of ${paths.dir}: the runtime could not write its log and pid file (${error.message})`,
  };
}

function isFull(dir: string): boolean {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

/** The bundle's config, once its rootfs is known to exist. */
function checkedConfig(bundle: string): ReturnType<typeof loadBundleConfig> {
  const config = loadBundleConfig(bundle);
  checkRootfs(config, bundle);
  return config;
}

/** One runtime start (run, or create then start) with the process directory's stdio. */
async function spawnRuntime(task: StartTask, paths: ProcessPaths, bundle: string, patience: Patience): Promise<InvokeResult> {
  const fds = await patiently('opening the stdio files', () => openRuntimeStdio(paths, task.stdio), patience);
  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring };
  const options = { timeoutMs: task.timeoutMs, patience };
  try {
    const stdio = { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
    if (task.startMode === 'run') return await invokeRuntime(task.runtime, paths.log, runArgs(task.id, runOptions), { stdio, ...options });
    const created = await invokeRuntime(task.runtime, paths.log, createArgs(task.id, runOptions), { stdio, ...options });
    if (created.exitCode !== 0) return created;
    return await invokeRuntime(task.runtime, paths.log, startArgs(task.id), options);
  } finally {
    closeFds([fds.stdin, fds.stdout, fds.stderr]);
  }
}

/**
 * A start that failed for a full pids cgroup or fd table (its log or output says so). crun 1.8
 * can even exit 0 after "detach process: Resource temporarily unavailable", without a pid file.
 */
async function ranOutOfResources(task: StartTask, paths: ProcessPaths, result: InvokeResult): Promise<boolean> {
  if (result.timedOut || result.spawnError !== null) return false;
  if (result.exitCode === 0 && existsSync(paths.pid)) return false;
  const log = await readTextPatiently(paths.log, patienceFor(5000));
  const output = result.stderr !== '' || task.stdio !== 'log' ? result.stderr : await readTextPatiently(paths.stderrLog, patienceFor(5000));
  return mentionsResourceExhaustion(log) || mentionsResourceExhaustion(output);
}

/** Removes a process directory, and its container directory if that is left empty. */
function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    rmdirSync(dirname(dir));
  } catch {
    // another process directory of the container (an exec) keeps it; gc removes the rest
  }
}

/** Before a retry: the failed attempt's log, output and pid file would be mistaken for the next one's. */
function resetProcessFiles(paths: ProcessPaths): void {
  for (const file of [paths.log, paths.stdoutLog, paths.stderrLog]) truncateQuietly(file);
  rmSync(paths.pid, { force: true });
}

function truncateQuietly(file: string): void {
  try {
    truncateSync(file);
  } catch {
    // not there (stdio null or fifo, or no cleanup yet)
  }
}

/**
 * A failed or hung start leaves nothing behind: kill what may run, then delete --force, again
 * while the delete itself fails for lack of processes or fds (else a retried start would find
 * "container with given ID already exists").
 */
async function removeContainer(task: StartTask, logFile: string, kill: boolean): Promise<void> {
  const cleanupLog = `${logFile}.cleanup`;
  const patience = patienceFor(CLEANUP_PATIENCE_MS);
  const options = { timeoutMs: 10_000, patience };
  if (kill) await invokeRuntime(task.runtime, cleanupLog, killArgs(task.id, 'SIGKILL'), options);
  for (let attempt = 0; ; attempt++) {
    truncateQuietly(cleanupLog); // a shortage logged by an earlier attempt must not count for this one
    const result = await invokeRuntime(task.runtime, cleanupLog, deleteArgs(task.id, { force: true }), options);
    if (result.exitCode === 0 || result.spawnError !== null) return;
    const said = `${await readTextPatiently(cleanupLog, patience)}\n${result.stderr}`;
    if (!mentionsResourceExhaustion(said) || !(await waitBeforeRetry(patience, attempt))) return;
  }
}

const CLEANUP_PATIENCE_MS = 30_000;

function plainError(error: unknown): PlainError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) return { code, message };
  return { code: 'ERR_STATE_DIR', message: `cannot prepare the process directory: ${message}` };
}
