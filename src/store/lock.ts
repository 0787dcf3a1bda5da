// One launcher per state directory: an exclusive flock on <stateDir>/lock, released by the
// kernel if the launcher dies, so a crash never leaves a stale lock behind.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';
import { native } from '../native.js';

export interface StateLock {
  readonly path: string;
  release(): void;
}

export function acquireStateLock(stateDir: string): StateLock {
  const path = join(stateDir, 'lock');
  const fd = openSync(path, 'a+', 0o600);
  let taken: boolean;
  try {
    taken = native().tryLock(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (!taken) {
    closeSync(fd);
    const holder = readFileSync(path, 'utf8').trim();
    throw new SalvoError(
      'ERR_STATE_LOCKED',
      `state directory ${stateDir} is in use by another launcher${holder === '' ? '' : ` (pid ${holder})`}; ` +
        'use another --state-dir or stop that launcher',
    );
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
  } catch (error) {
    // The pid only names the holder in another launcher's message; the flock is the lock. A full
    // disk is left for the store to report with its own code.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') {
      closeSync(fd);
      throw error;
    }
  }
  let released = false;
  return {
    path,
    release(): void {
      if (released) return;
      released = true;
      try {
        ftruncateSync(fd, 0);
      } finally {
        closeSync(fd);
      }
    },
  };
}
