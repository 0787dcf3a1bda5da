// Piscina entry point, and the one file that knows it runs in a worker thread: dispatches each
// task of the protocol (protocol.ts) to its handler and returns the handler's plain result.
import { patienceFor, patiently } from '../io/exhaustion.js';
import { keepLogTails } from '../io/log-tail.js';
import { EXIT_STATUS_PATIENCE_MS, writeExitStatus } from '../io/process-dir.js';
import { noteUnheardSpawnError } from '../runtime/execa-spawn.js';
import { checkpointContainer } from './checkpoint.js';
import { deleteContainer, runCommand, unmountDirs } from './command.js';
import { prepareContainer } from './prepare.js';
import type { ExitStatusTask, ResultOf, TaskKind, TaskOf, WorkerMessage } from './protocol.js';
import { startProcess } from './start.js';

// When a spawn fails (EMFILE…), execa 9 throws before it has listened to the child's 'error'
// event, which then arrives unheard: invoke.ts takes it to say why, and retries. Anything else
// still ends the thread, as it would without a handler.
process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  if (noteUnheardSpawnError(error)) return;
  throw error;
});

/** Each file atomically, waiting for a free fd; one that cannot be written (disk full) does not stop the others. */
async function writeExitStatuses({ statuses }: ExitStatusTask): Promise<{ failed: number }> {
  let failed = 0;
  for (const { dir, exitCode, logLimit } of statuses) {
    // The logs reach their final form before exitStatus (and the exit's waiters) say it ended.
    if (logLimit > 0) keepLogTails(dir, logLimit);
    try {
      await patiently(`writing ${dir}/exitStatus`, () => writeExitStatus(dir, exitCode), patienceFor(EXIT_STATUS_PATIENCE_MS));
    } catch {
      failed++;
    }
  }
  return { failed };
}

const HANDLERS: { [K in TaskKind]: (task: TaskOf<K>) => Promise<ResultOf<K>> } = {
  start: startProcess,
  prepare: (task) => prepareContainer(task),
  checkpoint: checkpointContainer,
  command: runCommand,
  delete: deleteContainer,
  'exit-status': writeExitStatuses,
  unmount: unmountDirs,
};

export default function runTask<K extends TaskKind>(message: { kind: K; task: TaskOf<K> } & WorkerMessage): Promise<ResultOf<K>> {
  const handler = HANDLERS[message.kind] as (task: TaskOf<K>) => Promise<ResultOf<K>>;
  return handler(message.task);
}
