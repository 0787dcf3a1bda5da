// The worker half of a checkpoint: run `checkpoint` into the image directory and, once CRIU has
// written the images, store the flags it used beside them (salvo-checkpoint.json).
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointArgs, type CheckpointOptions } from '../runtime/argv.js';
import { CHECKPOINT_FILE, storedCheckpoint } from '../runtime/checkpoint-file.js';
import { describeCriuFailure } from '../runtime/criu-log.js';
import { describeFailure, invokeRuntime } from '../runtime/invoke.js';
import type { CheckpointTask, CommandResult } from './protocol.js';

export async function checkpointContainer(task: CheckpointTask): Promise<CommandResult> {
  const record = join(task.imagePath, CHECKPOINT_FILE);
  const made = mkdirSync(task.imagePath, { recursive: true, mode: 0o700 });
  // A record left from an earlier checkpoint must not vouch for images this one may not finish.
  rmSync(record, { force: true });
  const options: CheckpointOptions = {
    imagePath: task.imagePath,
    leaveRunning: task.leaveRunning,
    ...task.criu,
    ...(task.workPath === null ? {} : { workPath: task.workPath }),
  };
  const result = await invokeRuntime(task.runtime, task.logFile, checkpointArgs(task.id, options), { timeoutMs: task.timeoutMs });
  if (result.timedOut) {
    const message = `runtime checkpoint did not return within ${task.timeoutMs} ms and was killed; CRIU's log is in ${task.workPath ?? task.imagePath}`;
    return { ok: false, runtimeExitCode: result.exitCode, stdout: '', error: { code: 'ERR_RUNTIME_HUNG', message } };
  }
  if (result.exitCode !== 0) {
    const error = await describeFailure(task.logFile, result);
    if (error.code === 'ERR_RUNTIME_FAILED') {
      const criuLog = join(task.workPath ?? task.imagePath, 'dump.log');
      error.message = describeCriuFailure(error.message, criuLog, await readFile(criuLog, 'utf8').catch(() => ''));
    }
    // A directory made for nothing stays only if it holds CRIU's log.
    if (made !== undefined) removeIfEmpty(task.imagePath);
    return { ok: false, runtimeExitCode: result.exitCode, stdout: result.stdout, error };
  }
  const temp = `${record}.tmp`;
  await writeFile(temp, `${JSON.stringify(storedCheckpoint(task.id, options, Date.now()), null, 2)}\n`, { mode: 0o600 });
  await rename(temp, record);
  return { ok: true, runtimeExitCode: 0, stdout: result.stdout };
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (CRIU's log is there) or already gone
  }
}
