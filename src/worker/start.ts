// The worker half of a launch (DESIGN §3 steps 2–3), for a container's init and for a process
// exec'd into it alike: prepare, spawn (run, create+start, restore or exec), read the pid, or
// report why not. With a spawn gate the worker prepares at once and waits for a slot only to
// spawn, so that preparing overlaps earlier starts' runtime calls. Out of fds or processes
// (EMFILE, ENFILE, EAGAIN), every step waits and retries within the start timeout, and the wait
// is reported in timings.waitedMs.
import { existsSync, rmSync, statfsSync, truncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';
import { isExhaustionCode, noPatience, patienceFor, patiently, readTextPatiently, waitBeforeRetry, type Patience } from '../io/exhaustion.js';
import { closeFds, openRuntimeStdio, processPaths, type ProcessPaths } from '../io/process-dir.js';
import { readProcStat, type ProcStat } from '../io/procfs.js';
import { acquireSpawnSlot, releaseSpawnSlot } from '../io/spawn-gate.js';
import { createArgs, deleteArgs, execArgs, killArgs, restoreArgs, runArgs, startArgs } from '../runtime/argv.js';
import { CHECKPOINT_FILE, parseStoredCheckpoint, restoreOptionsFor, type StoredCheckpoint } from '../runtime/checkpoint-file.js';
import { describeCriuFailure } from '../runtime/criu-log.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../runtime/invoke.js';
import { mentionsResourceExhaustion } from '../runtime/log.js';
import { now } from '../time.js';
import type { LaunchTimings, PlainError } from '../types.js';
import { releaseImageRootfs } from '../image/rootfs.js';
import { waitUntilInitHoldsSignals } from './init-ready.js';
import { plainProcessDirError, prepareContainer, prepareExec } from './prepare.js';
import type { PrepareResult, RestorePlan, StartResult, StartTask } from './protocol.js';

type Timings = LaunchTimings;
type Fail = (error: PlainError, runtimeExitCode?: number | null) => StartResult;

/** Prepares and spawns an init or an exec; a failure is a result, never an exception. */
export async function startProcess(task: StartTask): Promise<StartResult> {
  const patience = patienceFor(task.timeoutMs);
  const timings: Timings = { queuedMs: 0, prepareMs: 0, runtimeMs: 0, waitedMs: 0 };
  let spawnedAt: number | null = null;
  const failed: Fail = (error, runtimeExitCode = null) => {
    timings.waitedMs = patience.waitedMs;
    return { ok: false, runtimeExitCode, error, timings, spawnedAt };
  };

  const prepared = await prepare(task, patience);
  timings.prepareMs = prepared.prepareMs;
  if (!prepared.ok) return failed(prepared.error);
  let stored: StoredCheckpoint | null = null;
  try {
    if (task.process.kind === 'init' && task.process.restore !== null) stored = await readStoredCheckpoint(task.process.restore);
  } catch (error) {
    return failed(plainProcessDirError(error));
  }
  if (task.gate !== null && !(await acquireSpawnSlot(task.gate))) {
    return failed({ code: 'ERR_ABORTED', message: `start of ${task.id} was canceled before its runtime was spawned` });
  }
  try {
    const paths = processPaths(task.dir);
    spawnedAt = now();
    // Queued: from the start call to the spawn, except preparing (pool and gate waits).
    timings.queuedMs = Math.max(0, spawnedAt - task.queuedAt - timings.prepareMs);
    const result = await spawnAndRead(task, prepared, stored, paths, patience, timings, spawnedAt, failed);
    // A failed start was force-deleted: its overlay goes with it.
    if (!result.ok && task.image !== null) await releaseImageRootfs(task.dir, task.image.mount).catch(() => undefined);
    return result;
  } finally {
    if (task.gate !== null) releaseSpawnSlot(task.gate);
  }
}

async function spawnAndRead(
  task: StartTask,
  { bundle, init }: { bundle: string; init: boolean },
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
      if (isSpawnExhaustion(result)) {
        // Not spawned, and its stdio fds are closed again: wait holding nothing, then try again.
        if (await waitBeforeRetry(patience, attempt)) continue;
        result = { ...result, waitedMs: patience.waitedMs };
        break;
      }
      if (!(await ranOutOfResources(task, paths, result))) break;
      // runc or crun could not fork or open: undo the half-made container and try again.
      await undoStart(task, paths.log, false);
      resetProcessFiles(paths);
      if (!(await waitBeforeRetry(patience, attempt))) break;
    }
  } catch (error) {
    timings.runtimeMs = now() - spawnedAt;
    return failed(plainProcessDirError(error));
  }
  timings.runtimeMs = now() - spawnedAt;

  if (result.timedOut) {
    await undoStart(task, paths.log, true);
    return failed(
      {
        code: 'ERR_RUNTIME_HUNG',
        message: `${task.process.kind === 'exec' ? 'runtime exec' : 'the runtime'} did not return within ${task.timeoutMs} ms and was killed`,
      },
      result.exitCode,
    );
  }
  if (result.exitCode !== 0) {
    const error = whenDiskFull(paths, await describeFailure(paths.log, result, task.stdio === 'log' ? paths.stderrLog : undefined));
    const restore = task.process.kind === 'init' ? task.process.restore : null;
    if (restore !== null && error.code === 'ERR_RUNTIME_FAILED') {
      const criuLog = join(restore.workPath ?? restore.imagePath, 'restore.log');
      error.message = describeCriuFailure(error.message, criuLog, await readFile(criuLog, 'utf8').catch(() => ''));
    }
    if (result.spawnError === null) await undoStart(task, paths.log, false);
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
    await undoStart(task, paths.log, true);
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  // crun's run -d may return while its helper is still the container's parent: the reaper takes
  // care of an exit in that window (DESIGN §6), so the start need not wait for the re-parenting.
  // A restored init's signal mask is CRIU's to restore.
  const restored = task.process.kind === 'init' && task.process.restore !== null;
  if (init && !restored) await waitUntilInitHoldsSignals(pid, stat, INIT_READY_LIMIT_MS);
  timings.waitedMs = patience.waitedMs;
  return { ok: true, pid, pidStartTime: stat.startTime, timings, spawnedAt };
}

/** One runtime start (run, create then start, restore, or exec) with the process directory's stdio. */
async function spawnRuntime(
  task: StartTask,
  paths: ProcessPaths,
  bundle: string,
  stored: StoredCheckpoint | null,
  patience: Patience,
): Promise<InvokeResult> {
  const fds = await patiently('opening the stdio files', () => openRuntimeStdio(paths, task.stdio, task.stdin), patience);
  const consoleSocket = task.consoleSocket === null ? {} : { consoleSocket: task.consoleSocket };
  // The spawn that carries the stdio fds does not wait for more fds: the caller closes these first.
  const withStdio = { stdio: { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr }, timeoutMs: task.timeoutMs, patience: noPatience() };
  let created: InvokeResult;
  try {
    const init = task.process;
    if (init.kind === 'exec') {
      const args = execArgs(task.id, { pidFile: paths.pid, processFile: paths.processJson, ...consoleSocket });
      return await invokeRuntime(task.runtime, paths.log, args, withStdio);
    }
    if (init.restore !== null) {
      const { imagePath, workPath } = init.restore;
      const base = { bundle, pidFile: paths.pid, imagePath, noPivot: init.noPivot, ...consoleSocket, ...(workPath === null ? {} : { workPath }) };
      return await invokeRuntime(task.runtime, paths.log, restoreArgs(task.id, restoreOptionsFor(stored, base)), withStdio);
    }
    const runOptions = { bundle, pidFile: paths.pid, noPivot: init.noPivot, noNewKeyring: init.noNewKeyring, ...consoleSocket };
    if (init.startMode === 'run') return await invokeRuntime(task.runtime, paths.log, runArgs(task.id, runOptions), withStdio);
    created = await invokeRuntime(task.runtime, paths.log, createArgs(task.id, runOptions), withStdio);
  } finally {
    closeFds([fds.stdin, fds.stdout, fds.stderr]);
  }
  if (created.exitCode !== 0) return created;
  return await invokeRuntime(task.runtime, paths.log, startArgs(task.id), { timeoutMs: task.timeoutMs, patience });
}

/** The runtime could not be spawned for lack of fds or processes (nothing was created). */
function isSpawnExhaustion(result: InvokeResult): boolean {
  return result.spawnError !== null && isExhaustionCode(result.spawnError.code);
}

/** An init's config is checked and derived; an exec's process.json is derived from the container's. */
function prepare(task: StartTask, patience: Patience): Promise<PrepareResult> {
  if (task.process.kind === 'exec') return prepareExec(task, task.process.initDir, patience);
  return prepareContainer(
    { dir: task.dir, bundle: task.bundle, override: task.override, stdio: task.stdio, image: task.image, isolation: task.isolation },
    !task.prepared,
    patience,
  );
}

/**
 * After a failed, hung or resource-starved attempt: an init's half-made container is removed; an
 * exec leaves no container behind (the runtime made none), so there is nothing to delete.
 */
async function undoStart(task: StartTask, logFile: string, kill: boolean): Promise<void> {
  if (task.process.kind === 'init') await removeContainer(task, logFile, kill);
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
/** How long a start waits for salvo-init to hold signals (a frozen cgroup would hold it forever). */
const INIT_READY_LIMIT_MS = 5_000;

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
