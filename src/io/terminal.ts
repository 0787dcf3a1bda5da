// A process's terminal: the pty master the runtime sent, as a duplex stream, and its window size.
import { Duplex } from 'node:stream';
import { ReadStream } from 'node:tty';
import { SalvoError } from '../errors.js';
import { native } from '../native.js';

export interface Terminal {
  /** The pty master: what is written is typed into the process; what it prints is read. */
  stream: Duplex;
  /** Sets the window size (the process gets SIGWINCH); ERR_TERMINAL_CLOSED once the stream is closed. */
  resize(cols: number, rows: number): void;
}

/** Wraps a pty master fd; the stream owns the fd and closes it when it ends or is destroyed. */
export function terminalFromMaster(fd: number): Terminal {
  // A tty handle (net.Socket refuses tty fds); libuv sets it non-blocking and polls it.
  const tty = new ReadStream(fd);
  let open = true;
  const stream = new Duplex({
    read(): void {
      tty.resume();
    },
    write(chunk: Buffer, _encoding, callback): void {
      tty.write(chunk, callback);
    },
    final(callback): void {
      callback();
    },
    destroy(error, callback): void {
      open = false;
      tty.destroy();
      callback(error);
    },
  });
  tty.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) tty.pause();
  });
  // Once every holder of the slave has gone, reading the master fails with EIO: that is its end.
  const end = (): void => {
    open = false;
    stream.push(null);
    tty.destroy();
  };
  tty.on('end', end);
  tty.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EIO') end();
    else stream.destroy(error);
  });
  return {
    stream,
    resize(cols: number, rows: number): void {
      for (const [name, value] of [
        ['columns', cols],
        ['rows', rows],
      ] as const) {
        if (!Number.isInteger(value) || value < 1 || value > 65535) {
          throw new SalvoError('ERR_INVALID_OPTION', `terminal ${name} must be an integer from 1 to 65535, got ${String(value)}`);
        }
      }
      // After close the fd number may already belong to something else: never ioctl it.
      if (!open) throw new SalvoError('ERR_TERMINAL_CLOSED', 'the terminal is closed: its process has ended or the stream was destroyed');
      native().setWindowSize(fd, cols, rows);
    },
  };
}
