// Starting a state directory's serving launcher when none serves it: spawned detached, its output
// to serve.log, a readiness line on a pipe (no sleeps), and a flock so that clients starting at
// once spawn one server between them.
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, watch, writeSync } from 'node:fs';
import { SalvoError, isErrorCode } from '../errors.js';
import { ensureStateDir } from '../launcher/state-dir.js';
import { native } from '../native.js';
import type { ServerInfo } from './client.js';
import type { ConnectOptions } from './connect.js';
import type { SocketHttp } from './http.js';
import { probe, tryInfo } from './probe.js';
import { serveLogPath, startLockPath } from './socket.js';

const MAIN = new URL('../cli/main.js', import.meta.url);

/** The info of the server this client started, or of the one another client started meanwhile. */
export async function startServer(stateDir: string, http: SocketHttp, options: ConnectOptions): Promise<ServerInfo> {
  const dir = ensureStateDir(stateDir);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const lockFd = openSync(startLockPath(dir), 'a+', 0o600);
  // Any change in the directory (the socket appearing, the lock file emptied) wakes a waiting client.
  let wake: () => void = () => undefined;
  const watcher = watch(dir, () => wake());
  try {
    for (;;) {
      const found = await probe(http);
      if (found !== null && found !== 'stopping') return found;
      // A stopping server holds the state lock until its socket goes: wait for that (the watcher wakes us).
      if (found === null && native().tryLock(lockFd)) {
        try {
          // It may have become ready between our look and our lock.
          return (await tryInfo(http)) ?? (await spawnServer(dir, http, options, deadline));
        } finally {
          ftruncateSync(lockFd, 0); // a change the other waiting clients notice
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new SalvoError('ERR_SERVER', `no launcher became ready in ${dir}; see ${serveLogPath(dir)}`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.min(left, 1000));
        wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  } finally {
    watcher.close();
    closeSync(lockFd);
  }
}

/** Spawns `salvo serve` detached and waits for its one line on fd 3: ready, or why not. */
async function spawnServer(dir: string, http: SocketHttp, options: ConnectOptions, deadline: number): Promise<ServerInfo> {
  const log = openSync(serveLogPath(dir), 'a', 0o600);
  try {
    writeSync(log, `${new Date().toISOString()} starting a serving launcher for ${dir}\n`);
  } catch {
    // a heading only: on a full disk the server itself says what fails (the store's code)
  }
  const args = [MAIN.pathname, '--state-dir', dir, '--runtime', options.runtime ?? 'runc'];
  if (options.logLevel !== undefined) args.push('--log-level', options.logLevel);
  if (options.logFile !== undefined) args.push('--log-file', options.logFile);
  args.push('serve', '--foreground', '--ready-fd', '3', '--idle-exit', `${options.idleExitMs ?? 30_000}ms`);
  const child = spawn(process.execPath, args, { detached: true, cwd: dir, stdio: ['ignore', log, log, 'pipe'] });
  closeSync(log);
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream;
  let line = '';
  try {
    const outcome = await new Promise<string>((done, fail) => {
      const timer = setTimeout(
        () => fail(new SalvoError('ERR_SERVER', `the serving launcher did not become ready; see ${serveLogPath(dir)}`)),
        Math.max(deadline - Date.now(), 1),
      );
      readyPipe.on('data', (chunk: Buffer) => {
        line += chunk.toString('utf8');
        if (line.includes('\n')) {
          clearTimeout(timer);
          done(line.trim());
        }
      });
      readyPipe.on('end', () => (clearTimeout(timer), done(line.trim())));
      child.on('error', (error) => (clearTimeout(timer), fail(error)));
    });
    if (outcome === 'ready') {
      const info = await tryInfo(http);
      if (info !== null) return info;
    }
    if (outcome.startsWith('{')) {
      const failure = JSON.parse(outcome) as { code?: string; message?: string };
      if (failure.code === 'ERR_STATE_LOCKED') {
        throw new SalvoError('ERR_STATE_LOCKED', `${failure.message ?? ''} (the launcher holding it serves no socket)`);
      }
      // The launcher's own reason (a missing runtime is a usage error, exit 2, as in-process).
      if (isErrorCode(failure.code)) throw new SalvoError(failure.code, failure.message ?? outcome);
      throw new SalvoError('ERR_SERVER', `the serving launcher did not start: ${failure.message ?? outcome}`);
    }
    throw new SalvoError('ERR_SERVER', `the serving launcher did not start: ${lastLines(serveLogPath(dir))}`);
  } finally {
    readyPipe.removeAllListeners();
    (readyPipe as unknown as { destroy(): void }).destroy();
    child.unref();
  }
}

function lastLines(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return `see ${path}`;
  }
}
