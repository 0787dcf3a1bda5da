// `salvo logs ID`: a container's stdout.log to stdout and stderr.log to stderr; --follow until it exits.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { INIT_EXEC_ID, processPaths } from '../../io/process-dir.js';
import { SalvoError } from '../../errors.js';
import type { LauncherClient } from '../../server/client.js';
import type { ProcessRecord } from '../../types.js';
import { parsePositiveInteger } from '../duration.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';

interface LogsOptions {
  follow?: boolean;
  exec: string;
  run?: string;
}

export function logsCommand(globals: () => GlobalOptions): Command {
  return new Command('logs')
    .summary("print a container's output (stdout.log and stderr.log)")
    .description(
      "Prints what a container wrote: its stdout log to stdout, its stderr log to stderr. With --follow, keeps printing new output until the container's exit is recorded. Needs the default stdio ('log'). Each run of an id keeps its own logs: the latest is shown, --run N shows the record whose seq is N (the RUN column of `salvo ps -a`, `run:` in `salvo inspect`).",
    )
    .argument('<id>', 'container id')
    .option('-f, --follow', 'keep printing new output until the container exits')
    .option('--exec <execId>', "an exec'd process instead of the init", 'init')
    .option('--run <seq>', 'an earlier run of the id: the record with this seq (salvo ps -a shows it)')
    .addHelpText('after', '\nExamples:\n  $ salvo logs job-17\n  $ salvo logs --follow job-17 2>/dev/null\n  $ salvo logs job-17 --run 12')
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

/** The newest record of the id (or exec), or with --run the record of that seq, which must be this id's. */
async function recordFor(launcher: LauncherClient, id: string, options: LogsOptions): Promise<ProcessRecord> {
  const what = `container ${id}${options.exec === INIT_EXEC_ID ? '' : ` exec ${options.exec}`}`;
  if (options.run === undefined) {
    const record = await launcher.get(id, options.exec);
    if (record === undefined) throw new SalvoError('ERR_NOT_FOUND', `no ${what} in ${launcher.stateDir}`);
    return record;
  }
  const seq = parsePositiveInteger(options.run, '--run');
  const runs = await launcher.list({ id });
  const record = runs.find((r) => r.seq === seq);
  if (record !== undefined) return record;
  const known = runs.filter((r) => r.execId === options.exec).map((r) => r.seq);
  throw new SalvoError(
    'ERR_NOT_FOUND',
    `no run ${seq} of ${what} in ${launcher.stateDir}${known.length === 0 ? '' : ` (its runs: ${known.join(', ')})`}`,
  );
}

async function printLogs(launcher: LauncherClient, id: string, options: LogsOptions): Promise<void> {
  const record = await recordFor(launcher, id, options);
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
  // An earlier run has ended: there is nothing to follow.
  const isLatest = (await launcher.get(id, record.execId))?.seq === record.seq;
  // The serving launcher says when it has ended (at once for one that has); the files are read till then.
  let ended = false;
  const exited = (isLatest ? launcher.wait(id, record.execId) : Promise.resolve()).finally(() => (ended = true));
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
