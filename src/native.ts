// The C addon (native/salvo.c), typed. Loaded lazily so that a missing build is one clear error.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SalvoError } from './errors.js';

export type WatcherHandle = { readonly __watcher: unique symbol };
export type SpawnHandle = { readonly __spawn: unique symbol };

export interface NativeAddon {
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  pidfdOpen(pid: number): number;
  /** wait4(pid, WNOHANG): null while running, else one record (see watcherReap). */
  waitPid(pid: number): Float64Array | null;
  mkfifo(path: string, mode: number): void;
  /** chattr +T (ext2/3/4): subdirectories spread over the block groups; false where unsupported. */
  spreadSubdirectories(path: string): boolean;
  tryLock(fd: number): boolean;
  receiveFd(socketFd: number): number | null;
  /** TIOCSWINSZ on a pty master (the process inside gets SIGWINCH). */
  setWindowSize(fd: number, cols: number, rows: number): void;
  closeFd(fd: number): void;
  watcherCreate(onReadable: () => void): WatcherHandle;
  watcherAdd(watcher: WatcherHandle, pid: number): number;
  watcherRemove(watcher: WatcherHandle, pidfd: number): void;
  /** Puts a pending pidfd (kind 3) back in the set. */
  watcherRetry(watcher: WatcherHandle, pid: number, pidfd: number): void;
  /**
   * Flat records of 6: pid, kind, value, user µs, system µs, max RSS KiB. Kinds: 0 exited (value =
   * code), 1 signaled (value = signo), 2 gone and not ours, 3 exited but still another process's
   * child (value = its pidfd, taken out of the set: retry it).
   */
  watcherReap(watcher: WatcherHandle): Float64Array;
  watcherRef(watcher: WatcherHandle, on: boolean): void;
  watcherClose(watcher: WatcherHandle): void;
  /** mount("overlay", target, "overlay", 0, options). */
  mountOverlay(options: string, target: string): void;
  /** umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW). */
  unmountDetach(target: string): void;
  /** The same umount2 on a libuv pool thread: an overlay's teardown stays off the calling thread. */
  unmountDetachAsync(target: string): Promise<void>;
  /** mount(dir, dir, NULL, MS_BIND): a directory bound onto itself. */
  bindSelf(dir: string): void;
  /** mount(NULL, dir, NULL, MS_SHARED): that mount (alone, not recursive) made shared. */
  makeShared(dir: string): void;
  /**
   * vfork-style spawn (native/spawn.c) of `file` (a path: no PATH search) with argv [file, ...args]:
   * signals reset to default and unblocked, a parent-death SIGKILL, the mount namespace entered when
   * given, exactly fds 0-2 (stdin -1: /dev/null). onExit(kind, value) runs once in this thread's
   * loop: kind 0 exited (value = code), 1 signaled (value = signo). Throws an errno error (code,
   * syscall `spawn <file>`, path) when the process could not be spawned or exec'd.
   */
  spawn(
    file: string,
    args: readonly string[],
    env: readonly string[],
    fds: readonly [number, number, number],
    mountNamespace: string | null,
    onExit: (kind: number, value: number) => void,
  ): [number, SpawnHandle];
  /** pidfd_send_signal; false (nothing sent) once the process was reaped. */
  spawnSignal(handle: SpawnHandle, signal: number): boolean;
}

export const RECORD_FIELDS = 6;
export const KIND_EXITED = 0;
export const KIND_SIGNALED = 1;
export const KIND_NOT_CHILD = 2;
export const KIND_PENDING = 3;

let addon: NativeAddon | undefined;

/**
 * build/Release/salvo-exec: put in front of every runtime command, it gives the runtime a
 * parent-death signal and, when asked, enters a mount namespace (native/salvo-exec.c).
 */
export function execHelperPath(): string {
  return helperPath('salvo-exec');
}

/** build/Release/salvo-init: pid 1 of a container's own pid namespace (native/salvo-init.c, DESIGN §12). */
export function initHelperPath(): string {
  return helperPath('salvo-init');
}

const helperPaths = new Map<string, string>();

/** A static helper built with the addon; checked once (it is on the start path). */
function helperPath(name: string): string {
  const known = helperPaths.get(name);
  if (known !== undefined) return known;
  const path = fileURLToPath(new URL(`../../build/Release/${name}`, import.meta.url));
  try {
    accessSync(path, constants.X_OK);
  } catch (error) {
    throw new SalvoError('ERR_NATIVE', `${name} is not built (run npm install or npm rebuild in the salvo package): ${path}`, {
      cause: error,
    });
  }
  helperPaths.set(name, path);
  return path;
}

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
