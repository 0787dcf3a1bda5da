// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn (run, create+start or
// restore), read the pid, or report why not. With a spawn gate the worker prepares at once and
// waits for a slot only to spawn, so that preparing overlaps earlier starts' runtime calls.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { SalvoError, isErrorCode } from '../src/errors.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths, type ProcessPaths } from '../src/io/process-dir.js';
import { readProcStat } from '../src/io/procfs.js';
import { acquireSpawnSlot, releaseSpawnSlot } from '../src/io/spawn-gate.js';
import { createArgs, deleteArgs, killArgs, restoreArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { CHECKPOINT_FILE, parseStoredCheckpoint, restoreOptionsFor, type StoredCheckpoint } from '../src/runtime/checkpoint-file.js';
import { describeCriuFailure } from '../src/runtime/criu-log.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import type { PlainError, PrepareResult, PrepareTask, RestorePlan, StartResult, StartTask } from '../src/types.js';

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Validates the bundle, makes a fresh process directory (unless the main thread already made it,
 * for fifos or a console socket: `bundle` null asks for the directory alone) and, when the process
 * is overridden, writes its derived config.
 */
export function prepareContainer(task: PrepareTask, makeDir = true): PrepareResult {
  const began = now();
  try {
    if (task.bundle === null) {
      prepareProcessDir(task.dir, task.stdio);
      return { ok: true, bundle: task.dir, prepareMs: now() - began };
    }
    const config = loadBundleConfig(task.bundle);
    if (makeDir) prepareProcessDir(task.dir, task.stdio);
    let bundle = task.bundle;
    if (task.override !== null) {
      writeConfig(task.dir, deriveConfig(config, task.bundle, task.override));
      bundle = task.dir;
    }
    return { ok: true, bundle, prepareMs: now() - began };
  } catch (error) {
    return { ok: false, error: plainError(error), prepareMs: now() - began };
  }
}

type Timings = { queuedMs: number; prepareMs: number; runtimeMs: number };
type Fail = (error: PlainError, runtimeExitCode?: number | null) => StartResult;

export async function startContainer(task: StartTask): Promise<StartResult> {
  const timings: Timings = { queuedMs: 0, prepareMs: 0, runtimeMs: 0 };
  let spawnedAt: number | null = null;
  const failed: Fail = (error, runtimeExitCode = null) => ({ ok: false, runtimeExitCode, error, timings, spawnedAt });

  const prepared = prepareContainer(
    { kind: 'prepare', dir: task.dir, bundle: task.bundle, override: task.override, stdio: task.stdio },
    !task.prepared,
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
    return await spawnPrepared(task, prepared.bundle, stored, processPaths(task.dir), timings, (at) => (spawnedAt = at), failed);
  } finally {
    if (task.gate !== null) releaseSpawnSlot(task.gate);
  }
}

async function spawnPrepared(
  task: StartTask,
  bundle: string,
  stored: StoredCheckpoint | null,
  paths: ProcessPaths,
  timings: Timings,
  onSpawn: (at: number) => void,
  failed: Fail,
): Promise<StartResult> {
  let fds;
  try {
    fds = openRuntimeStdio(paths, task.stdio);
  } catch (error) {
    return failed(plainError(error));
  }
  const spawnedAt = now();
  onSpawn(spawnedAt);
  // Queued: from the start call to the spawn, except preparing (pool and gate waits).
  timings.queuedMs = Math.max(0, spawnedAt - task.queuedAt - timings.prepareMs);

  const consoleSocket = task.consoleSocket === null ? {} : { consoleSocket: task.consoleSocket };
  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring, ...consoleSocket };
  let result: InvokeResult;
  try {
    const options = { stdio: { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr }, timeoutMs: task.timeoutMs };
    if (task.restore !== null) {
      const { imagePath, workPath } = task.restore;
      const base = { bundle, pidFile: paths.pid, imagePath, noPivot: task.noPivot, ...consoleSocket, ...(workPath === null ? {} : { workPath }) };
      result = await invokeRuntime(task.runtime, paths.log, restoreArgs(task.id, restoreOptionsFor(stored, base)), options);
    } else if (task.startMode === 'run') {
      result = await invokeRuntime(task.runtime, paths.log, runArgs(task.id, runOptions), options);
    } else {
      result = await invokeRuntime(task.runtime, paths.log, createArgs(task.id, runOptions), options);
      if (result.exitCode === 0) {
        result = await invokeRuntime(task.runtime, paths.log, startArgs(task.id), { timeoutMs: task.timeoutMs });
      }
    }
  } finally {
    closeFds([fds.stdin, fds.stdout, fds.stderr]);
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
    const error = await describeFailure(paths.log, result, task.stdio === 'log' ? paths.stderrLog : undefined);
    if (task.restore !== null && error.code === 'ERR_RUNTIME_FAILED') {
      const criuLog = join(task.restore.workPath ?? task.restore.imagePath, 'restore.log');
      error.message = describeCriuFailure(error.message, criuLog, await readFile(criuLog, 'utf8').catch(() => ''));
    }
    if (result.spawnError === null) await removeContainer(task, paths.log, false);
    return failed(error, result.exitCode);
  }
  const pid = readPid(paths.pid);
  const stat = pid === null ? null : readProcStat(pid);
  if (stat === null) {
    await removeContainer(task, paths.log, true);
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  return { ok: true, pid: pid as number, pidStartTime: stat.startTime, timings, spawnedAt };
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'latin1'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A failed or hung start leaves nothing behind: kill what may run, then delete --force. */
async function removeContainer(task: StartTask, logFile: string, kill: boolean): Promise<void> {
  const cleanupLog = `${logFile}.cleanup`;
  if (kill) await invokeRuntime(task.runtime, cleanupLog, killArgs(task.id, 'SIGKILL'), { timeoutMs: 10_000 });
  await invokeRuntime(task.runtime, cleanupLog, deleteArgs(task.id, { force: true }), { timeoutMs: 10_000 });
}

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
