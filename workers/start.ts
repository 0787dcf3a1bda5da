// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn (run, create+start or
// restore), read the pid, or report why not. With a spawn gate the worker prepares at once and
// waits for a slot only to spawn, so that preparing overlaps earlier starts' runtime calls. Out of
// fds or processes (EMFILE, ENFILE, EAGAIN), every step waits and retries within the start
// timeout, and the wait is reported in timings.waitedMs.
import { existsSync, rmSync, rmdirSync, statfsSync, truncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkRootfs, deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { SalvoError, isErrorCode } from '../src/errors.js';
import { patienceFor, patiently, readTextPatiently, waitBeforeRetry, type Patience } from '../src/io/exhaustion.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths, type ProcessPaths } from '../src/io/process-dir.js';
import { readProcStat, type ProcStat } from '../src/io/procfs.js';
import { acquireSpawnSlot, releaseSpawnSlot } from '../src/io/spawn-gate.js';
import { createArgs, deleteArgs, killArgs, restoreArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { CHECKPOINT_FILE, parseStoredCheckpoint, restoreOptionsFor, type StoredCheckpoint } from '../src/runtime/checkpoint-file.js';
import { describeCriuFailure } from '../src/runtime/criu-log.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import { mentionsResourceExhaustion } from '../src/runtime/log.js';
import type { PlainError, PrepareResult, PrepareTask, RestorePlan, StartResult, StartTask } from '../src/types.js';

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Validates the bundle (its rootfs too), makes a fresh process directory (unless the main thread
 * already made it for fifos or a console socket: `bundle` null asks for the directory alone) and,
 * when the process is overridden, writes its derived config.
 */
export async function prepareContainer(task: PrepareTask, makeDir = true, patience: Patience = patienceFor(60_000)): Promise<PrepareResult> {
  const began = now();
  try {
    if (task.bundle === null) {
      await patiently('preparing the process directory', () => prepareProcessDir(task.dir, task.stdio), patience);
      return { ok: true, bundle: task.dir, prepareMs: now() - began };
    }
    const source = task.bundle;
    const config = await patiently('reading the bundle', () => checkedConfig(source), patience);
    if (makeDir) await patiently('preparing the process directory', () => prepareProcessDir(task.dir, task.stdio), patience);
    let bundle = source;
    if (task.override !== null) {
      const derived = deriveConfig(config, source, task.override);
      await patiently('writing the derived config.json', () => writeConfig(task.dir, derived), patience);
      bundle = task.dir;
    }
    return { ok: true, bundle, prepareMs: now() - began };
  } catch (error) {
    if (makeDir) removeQuietly(task.dir); // nothing half-made is left behind
    return { ok: false, error: plainError(error), prepareMs: now() - began };
  }
}

type Timings = { queuedMs: number; prepareMs: number; runtimeMs: number; waitedMs: number };
type Fail = (error: PlainError, runtimeExitCode?: number | null) => StartResult;

export async function startContainer(task: StartTask): Promise<StartResult> {
  const patience = patienceFor(task.timeoutMs);
  const timings: Timings = { queuedMs: 0, prepareMs: 0, runtimeMs: 0, waitedMs: 0 };
  let spawnedAt: number | null = null;
  const failed: Fail = (error, runtimeExitCode = null) => {
    timings.waitedMs = patience.waitedMs;
    return { ok: false, runtimeExitCode, error, timings, spawnedAt };
  };

  const prepared = await prepareContainer(
    { kind: 'prepare', dir: task.dir, bundle: task.bundle, override: task.override, stdio: task.stdio },
    !task.prepared,
    patience,
  );
  timings.prepareMs = prepared.prepareMs;
  if (!prepared.ok) return failed(prepared.error);
  let stored: StoredCheckpoint | null = null;
  try {
    if (task.restore !== null) stored = await readStoredCheckpoint(task.restore);
  } catch (error) {
    return failed(plainError(error));
  }
  if (task.gate !== null && !(await acquireSpawnSlot(task.gate))) {
    return failed({ code: 'ERR_ABORTED', message: `start of ${task.id} was canceled before its runtime was spawned` });
  }
  try {
    const paths = processPaths(task.dir);
    spawnedAt = now();
    // Queued: from the start call to the spawn, except preparing (pool and gate waits).
    timings.queuedMs = Math.max(0, spawnedAt - task.queuedAt - timings.prepareMs);
    return await spawnAndRead(task, prepared.bundle, stored, paths, patience, timings, spawnedAt, failed);
  } finally {
    if (task.gate !== null) releaseSpawnSlot(task.gate);
  }
}

async function spawnAndRead(
  task: StartTask,
  bundle: string,
  stored: StoredCheckpoint | null,
  paths: ProcessPaths,
  patience: Patience,
  timings: Timings,
  spawnedAt: number,
  failed: Fail,
): Promise<StartResult> {
  let result: InvokeResult;
  try {
    for (let attempt = 0; ; attempt++) {
      result = await spawnRuntime(task, paths, bundle, stored, patience);
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
    if (task.restore !== null && error.code === 'ERR_RUNTIME_FAILED') {
      const criuLog = join(task.restore.workPath ?? task.restore.imagePath, 'restore.log');
      error.message = describeCriuFailure(error.message, criuLog, await readFile(criuLog, 'utf8').catch(() => ''));
    }
    if (result.spawnError === null) await removeContainer(task, paths.log, false);
    return failed(error, result.exitCode);
  }
  let stat: ProcStat | null = null;
  const pid = Number.parseInt(await readTextPatiently(paths.pid, patience), 10);
  try {
    if (Number.isInteger(pid) && pid > 0) stat = await patiently('reading /proc', () => readProcStat(pid), patience);
  } catch {
    // no fd came free in time: the start fails below and the container is removed
  }
  if (stat === null) {
    await removeContainer(task, paths.log, true);
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  // crun's run -d may return while its helper is still the container's parent: the reaper takes
  // care of an exit in that window (DESIGN §6), so the start need not wait for the re-parenting.
  timings.waitedMs = patience.waitedMs;
  return { ok: true, pid, pidStartTime: stat.startTime, timings, spawnedAt };
}

/** One runtime start (run, create then start, or restore) with the process directory's stdio. */
async function spawnRuntime(
  task: StartTask,
  paths: ProcessPaths,
  bundle: string,
  stored: StoredCheckpoint | null,
  patience: Patience,
): Promise<InvokeResult> {
  const fds = await patiently('opening the stdio files', () => openRuntimeStdio(paths, task.stdio, task.stdin), patience);
  const consoleSocket = task.consoleSocket === null ? {} : { consoleSocket: task.consoleSocket };
  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring, ...consoleSocket };
  const options = { timeoutMs: task.timeoutMs, patience };
  try {
    const stdio = { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
    if (task.restore !== null) {
      const { imagePath, workPath } = task.restore;
      const base = { bundle, pidFile: paths.pid, imagePath, noPivot: task.noPivot, ...consoleSocket, ...(workPath === null ? {} : { workPath }) };
      return await invokeRuntime(task.runtime, paths.log, restoreArgs(task.id, restoreOptionsFor(stored, base)), { stdio, ...options });
    }
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

/** The flags the images were made with; null for images made outside salvo. */
async function readStoredCheckpoint(plan: RestorePlan): Promise<StoredCheckpoint | null> {
  if (!existsSync(plan.imagePath)) {
    throw new SalvoError('ERR_CHECKPOINT_NOT_FOUND', `no checkpoint at ${plan.imagePath}`, { details: { dir: plan.imagePath } });
  }
  const file = join(plan.imagePath, CHECKPOINT_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  return text === null ? null : parseStoredCheckpoint(text, file);
}

export function plainError(error: unknown): PlainError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) return { code, message };
  return { code: 'ERR_STATE_DIR', message: `cannot prepare the process directory: ${message}` };
}
