// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn, read the pid, or report why not.
// Prepare can run as a task of its own, so that it overlaps the previous start's runtime call.
import { readFileSync } from 'node:fs';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { isErrorCode } from '../src/errors.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths, type ProcessPaths } from '../src/io/process-dir.js';
import { acquireSpawnSlot, releaseSpawnSlot } from '../src/io/spawn-gate.js';
import { readProcStat } from '../src/io/procfs.js';
import { createArgs, deleteArgs, killArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import type { PlainError, PrepareResult, PrepareTask, StartResult, StartTask } from '../src/types.js';

const now = (): number => performance.timeOrigin + performance.now();

/** Validates the bundle, makes a fresh process directory and, when the process is overridden, its config. */
export function prepareContainer(task: PrepareTask): PrepareResult {
  const began = now();
  try {
    const config = loadBundleConfig(task.bundle);
    prepareProcessDir(task.dir, task.stdio);
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

export async function startContainer(task: StartTask): Promise<StartResult> {
  const began = now();
  const timings = { queuedMs: Math.max(0, began - task.queuedAt), prepareMs: 0, runtimeMs: 0 };
  let spawnedAt: number | null = null;
  const failed = (error: PlainError, runtimeExitCode: number | null = null): StartResult => ({
    ok: false,
    runtimeExitCode,
    error,
    timings,
    spawnedAt,
  });

  let bundle = task.bundle;
  if (!task.prepared) {
    const prepared = prepareContainer({ kind: 'prepare', dir: task.dir, bundle: task.bundle, override: task.override, stdio: task.stdio });
    timings.prepareMs = prepared.prepareMs;
    if (!prepared.ok) return failed(prepared.error);
    bundle = prepared.bundle;
  }
  const paths = processPaths(task.dir);
  if (task.gate !== null && !(await acquireSpawnSlot(task.gate))) {
    return failed({ code: 'ERR_ABORTED', message: `start of ${task.id} was canceled before its runtime was spawned` });
  }
  try {
    return await spawnPrepared(task, bundle, paths, timings, (at) => (spawnedAt = at), failed);
  } finally {
    if (task.gate !== null) releaseSpawnSlot(task.gate);
  }
}

async function spawnPrepared(
  task: StartTask,
  bundle: string,
  paths: ProcessPaths,
  timings: { queuedMs: number; prepareMs: number; runtimeMs: number },
  onSpawn: (at: number) => void,
  failed: (error: PlainError, runtimeExitCode?: number | null) => StartResult,
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

  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring };
  let result: InvokeResult;
  try {
    const stdio = { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
    if (task.startMode === 'run') {
      result = await invokeRuntime(task.runtime, paths.log, runArgs(task.id, runOptions), { stdio, timeoutMs: task.timeoutMs });
    } else {
      result = await invokeRuntime(task.runtime, paths.log, createArgs(task.id, runOptions), { stdio, timeoutMs: task.timeoutMs });
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

function plainError(error: unknown): PlainError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) return { code, message };
  return { code: 'ERR_STATE_DIR', message: `cannot prepare the process directory: ${message}` };
}
