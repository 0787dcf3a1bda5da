// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn, read the pid, or report why not.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { isErrorCode } from '../src/errors.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths } from '../src/io/process-dir.js';
import { readProcStat } from '../src/io/procfs.js';
import { createArgs, deleteArgs, killArgs, restoreArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { CHECKPOINT_FILE, parseStoredCheckpoint, restoreOptionsFor, type StoredCheckpoint } from '../src/runtime/checkpoint-file.js';
import { describeCriuFailure } from '../src/runtime/criu-log.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import { SalvoError } from '../src/errors.js';
import type { PlainError, RestorePlan, StartResult, StartTask } from '../src/types.js';

const now = (): number => performance.timeOrigin + performance.now();

export async function startContainer(task: StartTask): Promise<StartResult> {
  const began = now();
  const timings = { queuedMs: Math.max(0, began - task.queuedAt), prepareMs: 0, runtimeMs: 0 };
  const failed = (error: PlainError, runtimeExitCode: number | null = null): StartResult => ({
    ok: false,
    runtimeExitCode,
    error,
    timings,
  });

  let paths;
  let bundle = task.bundle;
  let fds;
  let stored: StoredCheckpoint | null = null;
  try {
    const config = loadBundleConfig(task.bundle);
    if (task.restore !== null) stored = await readStoredCheckpoint(task.restore);
    paths = task.prepared ? processPaths(task.dir) : prepareProcessDir(task.dir, task.stdio);
    if (task.override !== null) {
      writeConfig(task.dir, deriveConfig(config, task.bundle, task.override));
      bundle = task.dir;
    }
    fds = openRuntimeStdio(paths, task.stdio);
  } catch (error) {
    timings.prepareMs = now() - began;
    return failed(plainError(error));
  }
  const spawnedAt = now();
  timings.prepareMs = spawnedAt - began;

  const consoleSocket = task.consoleSocket === null ? {} : { consoleSocket: task.consoleSocket };
  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring, ...consoleSocket };
  let result: InvokeResult;
  try {
    const stdio = { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
    if (task.restore !== null) {
      const { imagePath, workPath } = task.restore;
      const base = { bundle, pidFile: paths.pid, imagePath, noPivot: task.noPivot, ...consoleSocket, ...(workPath === null ? {} : { workPath }) };
      result = await invokeRuntime(task.runtime, paths.log, restoreArgs(task.id, restoreOptionsFor(stored, base)), {
        stdio,
        timeoutMs: task.timeoutMs,
      });
    } else if (task.startMode === 'run') {
      result = await invokeRuntime(task.runtime, paths.log, runArgs(task.id, runOptions), {
        stdio,
        timeoutMs: task.timeoutMs,
      });
    } else {
      result = await invokeRuntime(task.runtime, paths.log, createArgs(task.id, runOptions), {
        stdio,
        timeoutMs: task.timeoutMs,
      });
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
  const pid = Number.parseInt(await readFile(paths.pid, 'utf8').catch(() => ''), 10);
  const stat = Number.isInteger(pid) && pid > 0 ? readProcStat(pid) : null;
  if (stat === null) {
    await removeContainer(task, paths.log, true);
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  return { ok: true, pid, pidStartTime: stat.startTime, timings };
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
