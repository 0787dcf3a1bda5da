// `salvo run -i`: the file the container reads as stdin. A pipe, file or tty is reopened through
// /proc (the container reads it directly, no copy); a socket (Node's own child stdio) cannot be
// reopened, so salvo copies it into a fifo of its own.
import { constants, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../native.js';

export interface StdinSource {
  /** The path the runtime opens as the process's stdin. */
  path: string;
  /** The runtime has opened `path`: at the end of stdin the copy may now close its end. */
  started(): void;
  /** Stops copying (the container has exited) and removes what it made. */
  close(): void;
}

export function stdinSource(): StdinSource {
  const stat = fstatSync(0);
  if (stat.isFIFO() || stat.isFile() || stat.isCharacterDevice())
    return { path: `/proc/${process.pid}/fd/0`, started: () => undefined, close: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'salvo-stdin-'));
  const path = join(dir, 'stdin');
  native().mkfifo(path, 0o600);
  // Read-write: the open does not wait for a reader, and the container sees EOF once this closes.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const writer = new Socket({ fd, readable: false, writable: true });
  writer.on('error', () => undefined); // the container stopped reading: not salvo's failure
  // Once stdin ends, the fd must close (a reader sees EOF only when no writer is left), but not
  // before the runtime opened the fifo: its blocking open waits for a writer, and the data would go.
  let started = false;
  let finished = false;
  const closeWhenDone = (): void => {
    if (!started || !finished) return;
    // No end(): a shutdown() on a fifo fails; close once what was written has gone into it.
    if (writer.writableLength === 0) writer.destroy();
    else writer.once('drain', () => writer.destroy());
  };
  process.stdin.once('end', () => {
    finished = true;
    closeWhenDone();
  });
  process.stdin.pipe(writer, { end: false });
  let closed = false;
  return {
    path,
    started(): void {
      started = true;
      closeWhenDone();
    },
    close(): void {
      if (closed) return;
      closed = true;
      process.stdin.unpipe(writer);
      process.stdin.destroy();
      writer.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
