// `salvo logs ID`: a container's stdout.log to stdout and stderr.log to stderr; --follow until it exits.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { INIT_EXEC_ID, processPaths } from '../../io/process-dir.js';
import { contextFrom, withRecord, type CliContext, type GlobalOptions } from '../context.js';

interface LogsOptions {
  follow?: boolean;
  exec: string;
}

export function logsCommand(globals: () => GlobalOptions): Command {
  return new Command('logs')
    .summary("print a container's output (stdout.log and stderr.log)")
    .description(
      "Prints what a container wrote: its stdout log to stdout, its stderr log to stderr. With --follow, keeps printing new output until the container's exit is recorded. Needs the default stdio ('log').",
    )
    .argument('<id>', 'container id')
    .option('-f, --follow', 'keep printing new output until the container exits')
    .option('--exec <execId>', "an exec'd process instead of the init", INIT_EXEC_ID)
    .addHelpText('after', '\nExamples:\n  $ salvo logs job-17\n  $ salvo logs --follow job-17 2>/dev/null')
    .action(async (id: string, options: LogsOptions) => {
      validateId(id, 'container id');
      const context = contextFrom(globals());
      await printLogs(context, id, options);
    });
}

function recordOf(context: CliContext, id: string, execId: string): { dir: string; live: boolean } {
  return withRecord(context, id, execId, (record) => ({ dir: record.dir, live: record.state === 'running' || record.state === 'subscribed' }));
}

async function printLogs(context: CliContext, id: string, options: LogsOptions): Promise<void> {
  const { dir } = recordOf(context, id, options.exec);
  const sources = [
    { path: processPaths(dir).stdoutLog, to: process.stdout, offset: 0 },
    { path: processPaths(dir).stderrLog, to: process.stderr, offset: 0 },
  ];
  const drain = (): void => {
    for (const source of sources) source.offset = copyFrom(source.path, source.offset, source.to);
  };
  drain();
  if (options.follow !== true) return;
  for (;;) {
    const { live } = recordOf(context, id, options.exec);
    drain();
    if (!live) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Copies a file's bytes from `offset` on; returns the new offset. A missing file is empty. */
function copyFrom(path: string, offset: number, to: NodeJS.WriteStream): number {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return offset;
  }
  if (size <= offset) return offset;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
    let position = offset;
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
      if (read === 0) break;
      to.write(Buffer.from(buffer.subarray(0, read)));
      position += read;
    }
    return position;
  } finally {
    closeSync(fd);
  }
}
