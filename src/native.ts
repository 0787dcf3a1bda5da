// The C addon (native/salvo.c), typed. Loaded lazily so that a missing build is one clear error.
import { createRequire } from 'node:module';
import { SalvoError } from './errors.js';

export type WatcherHandle = { readonly __watcher: unique symbol };

export interface NativeAddon {
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  pidfdOpen(pid: number): number;
  /** wait4(pid, WNOHANG): null while running, else one record (see watcherReap). */
  waitPid(pid: number): Float64Array | null;
  mkfifo(path: string, mode: number): void;
  tryLock(fd: number): boolean;
  receiveFd(socketFd: number): number | null;
  /** TIOCSWINSZ on a pty master (the process inside gets SIGWINCH). */
  setWindowSize(fd: number, cols: number, rows: number): void;
  closeFd(fd: number): void;
  watcherCreate(onReadable: () => void): WatcherHandle;
  watcherAdd(watcher: WatcherHandle, pid: number): number;
  watcherRemove(watcher: WatcherHandle, pidfd: number): void;
  /** Flat records of 6: pid, kind (0 exited, 1 signaled, 2 not our child), value, user µs, system µs, max RSS KiB. */
  watcherReap(watcher: WatcherHandle): Float64Array;
  watcherRef(watcher: WatcherHandle, on: boolean): void;
  watcherClose(watcher: WatcherHandle): void;
}

export const RECORD_FIELDS = 6;
export const KIND_EXITED = 0;
export const KIND_SIGNALED = 1;
export const KIND_NOT_CHILD = 2;

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  // dist/src/native.js -> <package>/build/Release/salvo.node
  const candidates = ['../../build/Release/salvo.node', '../build/Release/salvo.node'];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      addon = require(candidate) as NativeAddon;
      return addon;
    } catch (error) {
      lastError = error;
    }
  }
  throw new SalvoError(
    'ERR_NATIVE',
    `salvo's native addon is not built (run npm install or npm rebuild in the salvo package): ${(lastError as Error)?.message}`,
    { cause: lastError },
  );
}
