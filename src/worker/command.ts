// One runtime command (kill, delete, state, list, pause, resume, --version) for the main thread.
import { deleteArgs } from '../runtime/argv.js';
import { describeFailure, invokeRuntime } from '../runtime/invoke.js';
import type { CommandResult, DeleteTask, RuntimeCommandTask } from './protocol.js';

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
  if (result.exitCode === 0) return { ok: true, runtimeExitCode: 0, stdout: '' };
  return { ok: false, runtimeExitCode: result.exitCode, stdout: '', error: await describeFailure(task.logFile, result) };
}
