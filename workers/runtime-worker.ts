// Piscina entry point: dispatches one task to its adapter and returns a plain object.
import { writeExitStatus } from '../src/io/process-dir.js';
import type { WorkerTask } from '../src/types.js';
import { checkpointContainer } from './checkpoint.js';
import { deleteContainer, runCommand } from './command.js';
import { execInContainer } from './exec.js';
import { prepareContainer, startContainer } from './start.js';

/** Each file atomically; one that cannot be written (disk full) does not stop the others. */
function writeExitStatuses(statuses: { dir: string; exitCode: number }[]): { failed: number } {
  let failed = 0;
  for (const { dir, exitCode } of statuses) {
    try {
      writeExitStatus(dir, exitCode);
    } catch {
      failed++;
    }
  }
  return { failed };
}

export default async function runTask(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'start':
      return startContainer(task);
    case 'exec':
      return execInContainer(task);
    case 'checkpoint':
      return checkpointContainer(task);
    case 'command':
      return runCommand(task);
    case 'delete':
      return deleteContainer(task);
    case 'prepare':
      return prepareContainer(task);
    case 'exit-status':
      return writeExitStatuses(task.statuses);
  }
}
