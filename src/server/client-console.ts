// A client's own console socket for a terminal through the serving launcher: a listener in a
// private temp directory (0700) that the runtime sends the pty master to, so that no terminal
// traffic passes through the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenConsoleSocket, type ConsoleSocket } from '../io/console-socket.js';
import { terminalFromMaster, type Terminal } from '../io/terminal.js';
import { startTimer, type Timer } from '../io/timer.js';

// The runtime has sent the master before the server reports `started`; this only bounds a wait
// that should not happen (a runtime that returned success without sending it).
const AFTER_START_MS = 30_000;
// A start can queue in a busy server for long: the listener waits as long as the request lasts.
const LISTEN_MS = 24 * 3600_000;

export interface ClientConsole {
  path: string;
  /** The terminal, once the server says the process started. */
  take(): Promise<Terminal>;
  /** Stops listening and removes the directory (a master received and not taken is closed). */
  close(): void;
}

export async function openClientConsole(): Promise<ClientConsole> {
  const dir = mkdtempSync(join(tmpdir(), 'salvo-console-'));
  let socket: ConsoleSocket;
  try {
    socket = await listenConsoleSocket(join(dir, 'console.sock'), LISTEN_MS);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    path: socket.path,
    async take(): Promise<Terminal> {
      let timer: Timer | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = startTimer(() => reject(new Error(`no terminal came on ${socket.path} after the start`)), AFTER_START_MS, { unref: false });
      });
      try {
        return terminalFromMaster(await Promise.race([socket.take(), late]));
      } finally {
        timer?.clear();
      }
    },
    close(): void {
      socket.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
