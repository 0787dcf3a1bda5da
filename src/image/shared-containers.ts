// crun on a hybrid cgroup host runs in salvo's private mount namespace, a slave of the host's
// (DESIGN §12). Host mounts reach a slave only from a shared mount, and this host's mounts are
// private: so, before the holder makes that namespace, <stateDir>/containers is bound onto itself
// and that one mount made shared. The worker then mounts each overlay on the host with the addon
// (no fork), and the mount and its detach propagate into crun's namespace; nothing mounted in
// there (or in a container) comes back, as a slave does not propagate. Nothing else is touched.
import { realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { native } from '../native.js';
import type { Logger } from '../types.js';
import { isShared, readMountinfo, type MountEntry } from './mountinfo.js';

const SELF_MOUNTINFO = '/proc/self/mountinfo';

/** 'made' or 'reused' (a bind a killed launcher left): overlays propagate; 'unavailable': they do not. */
export type SharedContainers = { state: 'made' | 'reused' } | { state: 'unavailable'; reason: string };

/** The topmost mount at `dir` if it is `dir` bound onto itself (salvo's bind), else null. */
export function selfBindAt(dir: string, mountinfo = SELF_MOUNTINFO): MountEntry | null {
  const entries = readMountinfo(mountinfo);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const atDir = entries.filter((entry) => entry.point === dir);
  const top = atDir.find((entry) => !atDir.some((other) => other.parentId === entry.id));
  const parent = top === undefined ? undefined : byId.get(top.parentId);
  if (top === undefined || parent === undefined || parent.device !== top.device) return null;
  // The same directory of the same filesystem that the path showed before the bind.
  return top.root === join(parent.root, relative(parent.point, dir)) ? top : null;
}

/** Binds `dir` onto itself as a shared mount, or reuses the bind a killed launcher left (never stacks one). */
export function shareContainersDir(containers: string): SharedContainers {
  try {
    const dir = realpathSync(containers); // mountinfo shows resolved paths
    const bind = selfBindAt(dir);
    if (bind !== null) {
      if (!isShared(bind)) native().makeShared(dir); // a crash came between the two calls
      return { state: 'reused' };
    }
    // A mount already under it (an overlay left by a runc launcher) would be hidden by the bind.
    const under = readMountinfo(SELF_MOUNTINFO).find((entry) => entry.point.startsWith(`${dir}/`) || entry.point === dir);
    if (under !== undefined) return { state: 'unavailable', reason: `${under.point} is a mount point already` };
    native().bindSelf(dir);
    try {
      native().makeShared(dir);
    } catch (error) {
      native().unmountDetach(dir);
      throw error;
    }
    return { state: 'made' };
  } catch (error) {
    return { state: 'unavailable', reason: (error as Error).message };
  }
}

/**
 * Removes salvo's bind when salvo is done with it: kept while an overlay (of a container left
 * running or not yet deleted) is mounted under it, as detaching the bind would detach those too;
 * else detached, which files still open under it (a left container's fifos) survive unharmed, as
 * the path then shows the very same directory. Returns what happened.
 */
export function releaseContainersDir(containers: string): 'removed' | 'busy' | 'absent' {
  let dir: string;
  try {
    dir = realpathSync(containers);
  } catch {
    return 'absent';
  }
  if (selfBindAt(dir) === null) return 'absent';
  if (readMountinfo(SELF_MOUNTINFO).some((entry) => entry.point.startsWith(`${dir}/`))) return 'busy';
  native().unmountDetach(dir);
  return 'removed';
}

/** The containers directory of a state directory. */
export const containersDirOf = (stateDir: string): string => join(stateDir, 'containers');

/** At close (after crun's holder is gone): salvo's bind goes once nothing uses it; else the next open reuses it. */
export function releaseSharedContainers(stateDir: string, logger: Logger): void {
  try {
    if (releaseContainersDir(containersDirOf(stateDir)) === 'busy')
      logger.info(
        { dir: containersDirOf(stateDir) },
        'the shared containers directory stays mounted for the next open: overlays under it are in use',
      );
  } catch (error) {
    logger.warn({ err: error }, 'cannot unmount the shared containers directory');
  }
}
