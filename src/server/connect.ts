// Connecting to a state directory's serving launcher, and starting one when there is none
// (start-server.ts, loaded only then: a command that finds a server pays for no spawn machinery).
import { resolve } from 'node:path';
import { SalvoError } from '../errors.js';
import { LauncherClient } from './client.js';
import { SocketHttp } from './http.js';
import { tryInfo } from './probe.js';
import { socketPath } from './socket.js';

export interface ConnectOptions {
  /** Start a server when none serves the directory (default true). */
  autoStart?: boolean;
  /** The runtime an auto-started server drives; with `requireRuntime`, a server driving another is refused. */
  runtime?: string;
  requireRuntime?: boolean;
  /** Idle exit of an auto-started server (ms; 0 keeps it). Default 30 s. */
  idleExitMs?: number;
  /** Global CLI options for an auto-started server. */
  logLevel?: string;
  logFile?: string;
  /** How long to wait for a server to become ready. Default 60 s. */
  timeoutMs?: number;
}

/** A client of the directory's serving launcher, started first if none serves it. */
export async function connect(stateDir: string, options: ConnectOptions = {}): Promise<LauncherClient> {
  const dir = resolve(stateDir);
  const http = new SocketHttp(socketPath(dir));
  try {
    let info = await tryInfo(http);
    if (info === null) {
      if (options.autoStart === false) throw new SalvoError('ERR_SERVER', `no launcher serves ${dir} (start one with salvo serve)`);
      info = await (await import('./start-server.js')).startServer(dir, http, options);
    }
    if (options.requireRuntime === true && options.runtime !== undefined && !sameRuntime(options.runtime, info.runtime.path)) {
      throw new SalvoError(
        'ERR_INVALID_OPTION',
        `the launcher serving ${dir} (pid ${info.pid}) drives ${info.runtime.path}, not ${options.runtime}: use --runtime ${info.runtime.path} or another --state-dir`,
      );
    }
    return new LauncherClient(http, info);
  } catch (error) {
    http.close();
    throw error;
  }
}

function sameRuntime(asked: string, serving: string): boolean {
  return asked.includes('/') ? resolve(asked) === serving : serving.split('/').pop() === asked;
}
