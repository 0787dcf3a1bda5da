// The worker half of a launch (DESIGN §3 steps 2–3): prepare, spawn, read the pid, or report why not.
import { readFile } from 'node:fs/promises';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { isErrorCode } from '../src/errors.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths } from '../src/io/process-dir.js';
import { readProcStat } from '../src/io/procfs.js';
import { createArgs, deleteArgs, killArgs, runArgs, startArgs } from '../src/runtime/argv.js';
import { describeFailure, invokeRuntime, type InvokeResult } from '../src/runtime/invoke.js';
import type { PlainError, StartResult, StartTask } from '../src/types.js';

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
  try {
    const config = loadBundleConfig(task.bundle);
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

  const runOptions = { bundle, pidFile: paths.pid, noPivot: task.noPivot, noNewKeyring: task.noNewKeyring };
  let result: InvokeResult;
  try {
    const stdio = { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr };
    if (task.startMode === 'run') {
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

function plainError(error: unknown): PlainError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (isErrorCode(code)) return { code, message };
  return { code: 'ERR_STATE_DIR', message: `cannot prepare the process directory: ${message}` };
}
