// Piscina entry point: dispatches one task to its adapter and returns a plain object.
import { prepareProcessDir } from '../src/io/process-dir.js';
import type { WorkerTask } from '../src/types.js';
import { checkpointContainer } from './checkpoint.js';
import { deleteContainer, runCommand } from './command.js';
import { execInContainer } from './exec.js';
import { startContainer } from './start.js';

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
      prepareProcessDir(task.dir, task.stdio);
      return { ok: true };
  }
}
