// Streaming a process's stdout and stderr fifos to salvo's own (`salvo run`, `salvo exec`), and
// keeping a copy in the record's stdout.log and stderr.log so that `salvo logs` shows it later.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Proc } from '../index.js';
import { processPaths } from '../io/process-dir.js';

/** Resolves once both streams have ended (the process and everything holding them have gone) and the copies are written. */
export function pipeOutput(proc: Pick<Proc, 'stdout' | 'stderr'> & { dir?: string }): Promise<void> {
  const paths = proc.dir === undefined ? null : processPaths(proc.dir);
  return Promise.all([
    pipe(proc.stdout, process.stdout, paths?.stdoutLog),
    pipe(proc.stderr, process.stderr, paths?.stderrLog),
  ]).then(() => undefined);
}

function pipe(from: NodeJS.ReadableStream | null, to: NodeJS.WriteStream, copy: string | undefined): Promise<void> {
  if (from === null) return Promise.resolve();
  const file: WriteStream | null = copy === undefined ? null : createWriteStream(copy, { flags: 'a', mode: 0o600 });
  // A copy that cannot be written (a full disk) must not stop the live output.
  file?.on('error', () => undefined);
  const streamed = new Promise<void>((resolve) => {
    from.on('data', (chunk: Buffer) => {
      to.write(chunk);
      file?.write(chunk);
    });
    from.on('end', resolve);
    from.on('error', () => resolve());
    from.on('close', resolve);
  });
  return streamed.then(() => (file === null || file.destroyed ? undefined : new Promise<void>((resolve) => file.end(resolve))));
}
