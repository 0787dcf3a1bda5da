// Receiving a pty master from the runtime (`--console-socket`, DESIGN §5): a unix socket listener
// in the process directory; the runtime connects and sends the master over SCM_RIGHTS, which the
// addon's recvmsg takes (Node has no API for ancillary data).
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { SalvoError } from '../errors.js';
import { native } from '../native.js';
import { startTimer, type Timer } from './timer.js';

export interface ConsoleSocket {
  path: string;
  /** The pty master's fd once the runtime has sent it (the caller owns it then); rejects on close or timeout. */
  take(): Promise<number>;
  /** Stops listening and removes the socket file; a master received but not taken is closed. */
  close(): void;
}

// The runtime sends the fd right after connecting; a few short retries find it.
const RETRY_DELAYS_MS = [0, 1, 2, 5, 10, 20, 50];

/** Listens on `path` (in the process directory) before the runtime is spawned with it. */
export async function listenConsoleSocket(path: string, timeoutMs: number): Promise<ConsoleSocket> {
  rmSync(path, { force: true });
  // pauseOnConnect: libuv must never read() the connection, which would drop the fd in transit.
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let settled = false;
  let taken = false;
  let received: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let connection: Socket | null = null;
  let deadline: Timer | null = null;
  let resolveMaster!: (fd: number) => void;
  let rejectMaster!: (error: unknown) => void;
  const master = new Promise<number>((resolve, reject) => {
    resolveMaster = resolve;
    rejectMaster = reject;
  });
  // A caller that gives up (the start failed) must not see an unhandled rejection.
  master.catch(() => undefined);

  const stop = (): void => {
    if (timer !== null) clearTimeout(timer);
    deadline?.clear();
    timer = null;
    deadline = null;
    connection?.destroy();
    connection = null;
    server.close();
    rmSync(path, { force: true });
  };
  const fail = (error: SalvoError): void => {
    if (settled) return;
    settled = true;
    stop();
    rejectMaster(error);
  };
  deadline = startTimer(
    () => fail(new SalvoError('ERR_RUNTIME_FAILED', `the runtime sent no terminal on ${path} within ${timeoutMs} ms`)),
    timeoutMs,
    { unref: false },
  );

  server.on('connection', (socket: Socket) => {
    if (connection !== null || settled) {
      socket.destroy();
      return;
    }
    connection = socket;
    // net.Socket has no public fd; the pipe handle's fd is what recvmsg needs.
    const fd = (socket as unknown as { _handle: { fd: number } | null })._handle?.fd ?? -1;
    let attempt = 0;
    const poll = (): void => {
      timer = null;
      if (settled) return;
      try {
        received = native().receiveFd(fd);
      } catch (error) {
        fail(
          new SalvoError('ERR_RUNTIME_FAILED', `the runtime closed ${path} without sending a terminal: ${(error as Error).message}`, {
            cause: error,
          }),
        );
        return;
      }
      if (received === null) {
        timer = setTimeout(poll, RETRY_DELAYS_MS[Math.min(attempt++, RETRY_DELAYS_MS.length - 1)]);
        return;
      }
      settled = true;
      stop();
      resolveMaster(received);
    };
    poll();
  });

  return {
    path,
    take(): Promise<number> {
      taken = true;
      return master;
    },
    close(): void {
      if (!settled) fail(new SalvoError('ERR_ABORTED', `stopped waiting for a terminal on ${path}`));
      else if (!taken && received !== null) {
        closeQuietly(received);
        received = null; // closed once: the number may be reused at once
      }
    },
  };
}

function closeQuietly(fd: number): void {
  try {
    native().closeFd(fd);
  } catch {
    // already closed
  }
}
