// Where a state directory's serving launcher listens and logs, and the lock that makes one server.
import { join } from 'node:path';

/** The unix socket of the serving launcher (owner-only, inside the 0700 state directory). */
export function socketPath(stateDir: string): string {
  return join(stateDir, 'salvo.sock');
}

/** stdout/stderr of an auto-started server. */
export function serveLogPath(stateDir: string): string {
  return join(stateDir, 'serve.log');
}

/** flock held by the one client that spawns a server, until that server is ready or failed. */
export function startLockPath(stateDir: string): string {
  return join(stateDir, 'serve.lock');
}

/** How long an auto-started server stays up with no live container and no client. */
export const DEFAULT_IDLE_EXIT_MS = 30_000;

/** The API's version prefix: a client and a server of another salvo refuse each other clearly. */
export const API_PREFIX = '/v1';
