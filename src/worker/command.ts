// One runtime command (kill, delete, state, list, pause, resume, --version) for the main thread.
import { dirname } from 'node:path';
import { releaseImageRootfs } from '../image/rootfs.js';
import { unmountUnder } from '../image/mount.js';
import { deleteArgs } from '../runtime/argv.js';
import { describeFailure, invokeRuntime } from '../runtime/invoke.js';
import type { CommandResult, DeleteTask, RuntimeCommandTask, UnmountTask } from './protocol.js';

export async function runCommand(task: RuntimeCommandTask): Promise<CommandResult> {
  const result = await invokeRuntime(task.runtime, task.logFile, task.args, { timeoutMs: task.timeoutMs });
  if (result.exitCode === 0) return { ok: true, runtimeExitCode: 0, stdout: result.stdout };
  const error = result.timedOut
    ? { code: 'ERR_RUNTIME_HUNG', message: `runtime ${task.args[0]} did not return within ${task.timeoutMs} ms` }
    : await describeFailure(task.logFile, result);
  return { ok: false, runtimeExitCode: result.exitCode, stdout: result.stdout, error };
}

/** `delete`, falling back to `delete --force` when the runtime still thinks it runs. */
export async function deleteContainer(task: DeleteTask): Promise<CommandResult> {
  let result = await invokeRuntime(task.runtime, task.logFile, deleteArgs(task.id, { force: task.force }), {
    timeoutMs: 30_000,
  });
  if (result.exitCode !== 0 && !task.force) {
    result = await invokeRuntime(task.runtime, task.logFile, deleteArgs(task.id, { force: true }), {
      timeoutMs: 30_000,
    });
  }
  // The container is gone (or the runtime cannot delete it): an image's overlay goes either way.
  if (task.unmount !== undefined) await releaseImageRootfs(dirname(task.logFile), task.unmount).catch(() => undefined);
  if (result.exitCode === 0) return { ok: true, runtimeExitCode: 0, stdout: '' };
  return { ok: false, runtimeExitCode: result.exitCode, stdout: '', error: await describeFailure(task.logFile, result) };
}

/** gc and recovery: salvo's overlays under these container directories. */
export async function unmountDirs(task: UnmountTask): Promise<{ unmounted: number }> {
  return { unmounted: await unmountUnder(task.mount, task.dirs) };
}
