// Piscina entry point: dispatches one task to its adapter and returns a plain object.
import type { WorkerTask } from '../src/types.js';
import { deleteContainer, runCommand } from './command.js';
import { prepareContainer, startContainer } from './start.js';

export default async function runTask(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'start':
      return startContainer(task);
    case 'command':
      return runCommand(task);
    case 'delete':
      return deleteContainer(task);
    case 'prepare':
      return prepareContainer(task);
  }
}
