// `salvo serve`: one in-process Launcher per state directory behind a unix socket (HTTP + JSON),
// for every command and client; it exits by itself once idle (no live container, no client).
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { SalvoError } from '../errors.js';
import { Launcher } from '../launcher/launcher.js';
import type { LauncherOptions, Logger } from '../types.js';
import { Routes } from './routes.js';
import { socketPath } from './socket.js';
import { sendError } from './wire.js';

export interface ServeOptions extends LauncherOptions {
  stateDir: string;
  /** Exit after this long with no live container and no client; 0 serves until stopped. */
  idleExitMs: number;
  /** Called once the socket listens (the readiness handshake of an auto-started server). */
  onReady?: (socket: string) => void;
}

export interface Serving {
  socket: string;
  launcher: Launcher;
  /** Resolves once the server has stopped (idle, shutdown request or stop()). */
  stopped: Promise<void>;
  /** Stops serving; running containers keep running for the next server to adopt. */
  stop(): Promise<void>;
}

const IDLE_CHECK_MS = 1000;

export async function serve(options: ServeOptions): Promise<Serving> {
  const { idleExitMs, onReady, ...launcherOptions } = options;
  // The state lock (Launcher.open) is what makes one server per state directory.
  const launcher = await Launcher.open({ workers: 1, tasksPerWorker: 64, ...launcherOptions });
  const log: Logger = launcher.options.logger;
  const socket = socketPath(launcher.stateDir);
  let clients = 0;
  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(idleTimer);
      // The socket stays (answering 'stopping') until the state lock is free: a client that comes
      // meanwhile waits for it to go, instead of starting a server that would find the lock held.
      await launcher.close({ containers: 'leave' });
      http.close();
      http.closeAllConnections();
      rmSync(socket, { force: true });
      log.info({ socket }, 'serving launcher stopped');
      resolveStopped();
    })();
    return stopping;
  };
  const routes = new Routes(launcher, { pid: process.pid, stateDir: launcher.stateDir, runtime: launcher.runtime }, () => void stop());
  // Idle counts from the last request's end: activity between two idle checks is activity too.
  let idleSince: number | null = null;
  const http: Server = createServer((request, response) => {
    if (stopping !== null) return sendError(response, new SalvoError('ERR_SERVER_STOPPING', `the launcher serving ${launcher.stateDir} is stopping`));
    clients++;
    idleSince = null;
    response.on('close', () => {
      clients--;
      idleSince = null;
    });
    void routes.handle(request, response);
  });
  http.keepAliveTimeout = 1000;
  // A socket left by a server that was killed: we hold the state lock, so it is nobody's.
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(socket, () => {
      http.off('error', reject);
      resolve();
    });
  });
  chmodSync(socket, 0o600);
  const idleTimer = setInterval(
    () => {
      // Exits waiting for room in the store keep it too: closing would report them not recorded.
      if (clients > 0 || launcher.liveCount > 0 || launcher.pendingExits > 0) {
        idleSince = null;
        return;
      }
      idleSince ??= Date.now();
      if (Date.now() - idleSince >= idleExitMs) {
        log.info({ idleExitMs }, 'idle: no live container and no client');
        void stop();
      }
    },
    Math.min(IDLE_CHECK_MS, Math.max(idleExitMs, 50)),
  );
  if (idleExitMs === 0) clearInterval(idleTimer);
  log.info({ socket, idleExitMs }, 'serving launcher ready');
  onReady?.(socket);
  return { socket, launcher, stopped, stop };
}
