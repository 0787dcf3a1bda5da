// Streaming a process's stdout and stderr fifos to salvo's own (`salvo run`, `salvo exec`).
import type { Proc } from '../index.js';

/** Resolves once both streams have ended (the process and everything holding them have gone). */
export function pipeOutput(proc: Pick<Proc, 'stdout' | 'stderr'>): Promise<void> {
  return Promise.all([pipe(proc.stdout, process.stdout), pipe(proc.stderr, process.stderr)]).then(() => undefined);
}

function pipe(from: NodeJS.ReadableStream | null, to: NodeJS.WriteStream): Promise<void> {
  if (from === null) return Promise.resolve();
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => to.write(chunk));
    from.on('end', resolve);
    from.on('error', () => resolve());
    from.on('close', resolve);
  });
}
