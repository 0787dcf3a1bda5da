// Streaming a process's stdout/stderr through fifos (DESIGN §12): read ends are opened
// O_RDONLY|O_NONBLOCK and wrapped in net.Socket; a keep-alive writer stops the reader from
// seeing EOF before the runtime has opened its own write end.
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';

export interface FifoReader {
  stream: Socket;
  /** Drops the keep-alive writer once the process holds its own write end (or never will). */
  release(): void;
}

export function openFifoReader(path: string): FifoReader {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let keepAlive: number | null;
  try {
    keepAlive = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    closeSync(readFd);
    throw error;
  }
  const stream = new Socket({ fd: readFd, readable: true, writable: false });
  return {
    stream,
    release(): void {
      if (keepAlive === null) return;
      closeSync(keepAlive);
      keepAlive = null;
    },
  };
}
