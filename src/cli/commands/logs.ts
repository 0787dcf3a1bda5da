// `salvo logs ID`: a container's stdout.log to stdout and stderr.log to stderr; --follow until it exits.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { processPaths } from '../../io/process-dir.js';
import { SalvoError } from '../../errors.js';
import type { LauncherClient } from '../../server/client.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';

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
    .option('--exec <execId>', "an exec'd process instead of the init", 'init')
    .addHelpText('after', '\nExamples:\n  $ salvo logs job-17\n  $ salvo logs --follow job-17 2>/dev/null')
    .action(async (id: string, options: LogsOptions) => {
      validateId(id, 'container id');
      const context = contextFrom(globals());
      const launcher = await launcherFor(context);
      try {
        await printLogs(launcher, id, options);
      } finally {
        await launcher.close();
      }
    });
}

async function printLogs(launcher: LauncherClient, id: string, options: LogsOptions): Promise<void> {
  const record = await launcher.get(id, options.exec);
  if (record === undefined)
    throw new SalvoError('ERR_NOT_FOUND', `no container ${id}${options.exec === 'init' ? '' : ` exec ${options.exec}`} in ${launcher.stateDir}`);
  const { dir } = record;
  const sources = [
    { path: processPaths(dir).stdoutLog, to: process.stdout, offset: 0 },
    { path: processPaths(dir).stderrLog, to: process.stderr, offset: 0 },
  ];
  const drain = (): void => {
    for (const source of sources) source.offset = copyFrom(source.path, source.offset, source.to);
  };
  drain();
  if (options.follow !== true) return;
  // The serving launcher says when it has ended (at once for one that has); the files are read till then.
  let ended = false;
  const exited = launcher.wait(id, options.exec).finally(() => (ended = true));
  while (!ended) {
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 200))]);
    drain();
  }
  await exited;
  drain();
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
