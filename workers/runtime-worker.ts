// Piscina entry point: dispatches one task to its adapter and returns a plain object.
import { patienceFor, patiently } from '../src/io/exhaustion.js';
import { EXIT_STATUS_PATIENCE_MS, writeExitStatus } from '../src/io/process-dir.js';
import { noteUnheardSpawnError } from '../src/runtime/invoke.js';
import type { WorkerTask } from '../src/types.js';
import { checkpointContainer } from './checkpoint.js';
import { deleteContainer, runCommand, unmountDirs } from './command.js';
import { execInContainer } from './exec.js';
import { prepareContainer, startContainer } from './start.js';

// When a spawn fails (EMFILE…), execa 9 throws before it has listened to the child's 'error'
// event, which then arrives unheard: invoke.ts takes it to say why, and retries. Anything else
// still ends the thread, as it would without a handler.
process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  if (noteUnheardSpawnError(error)) return;
  throw error;
});

/** Each file atomically, waiting for a free fd; one that cannot be written (disk full) does not stop the others. */
async function writeExitStatuses(statuses: { dir: string; exitCode: number }[]): Promise<{ failed: number }> {
  let failed = 0;
  for (const { dir, exitCode } of statuses) {
    try {
      await patiently(`writing ${dir}/exitStatus`, () => writeExitStatus(dir, exitCode), patienceFor(EXIT_STATUS_PATIENCE_MS));
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
    case 'unmount':
      return unmountDirs(task);
  }
}
