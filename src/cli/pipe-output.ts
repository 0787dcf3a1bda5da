// Streaming a process's stdout and stderr fifos to salvo's own (`salvo run`, `salvo exec`), and
// keeping a copy in the record's stdout.log and stderr.log so that `salvo logs` shows it later.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Proc } from '../index.js';
import { processPaths } from '../io/process-dir.js';

/** Resolves once both streams have ended (the process and everything holding them have gone) and the copies are written. */
export function pipeOutput(proc: Pick<Proc, 'stdout' | 'stderr'> & { dir?: string }): Promise<void> {
  const paths = proc.dir === undefined ? null : processPaths(proc.dir);
  return Promise.all([pipe(proc.stdout, process.stdout, paths?.stdoutLog), pipe(proc.stderr, process.stderr, paths?.stderrLog)]).then(
    () => undefined,
  );
}

/** Copies `from` to `to` (and to the file `copy`), reading no faster than the slower of them takes it. */
export function pipe(from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream, copy: string | undefined): Promise<void> {
  if (from === null) return Promise.resolve();
  const file: WriteStream | null = copy === undefined ? null : createWriteStream(copy, { flags: 'a', mode: 0o600 });
  // A copy that cannot be written (a full disk) must not stop the live output.
  file?.on('error', () => undefined);
  let toFailed = false;
  // A reader that went away (EPIPE) takes no more, and must not hold the output back.
  to.on('error', () => (toFailed = true));
  const streamed = new Promise<void>((resolve) => {
    from.on('data', (chunk: Buffer) => {
      // Backpressure: while salvo's stdout (a slow reader) or the copy lags, the fifo is not read,
      // so the container's writes wait in the pipe instead of piling up in salvo's memory.
      const waits: Promise<void>[] = [];
      if (!toFailed && !to.write(chunk)) waits.push(drained(to));
      if (file !== null && !file.destroyed && !file.write(chunk)) waits.push(drained(file));
      if (waits.length === 0) return;
      from.pause();
      void Promise.all(waits).then(() => from.resume());
    });
    from.on('end', resolve);
    from.on('error', () => resolve());
    from.on('close', resolve);
  });
  return streamed.then(() => (file === null || file.destroyed ? undefined : new Promise<void>((resolve) => file.end(resolve))));
}

/** Resolves once a stream that refused a write can take more, or can take nothing any more. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}
