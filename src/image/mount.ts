// A container's root filesystem from a cached image: an overlay (lower = the image, upper and work
// in the process directory) mounted where the runtime runs, and unmounted only if salvo made it.
// On the host the addon calls mount(2)/umount2(2): for runc, and for crun on a hybrid host too,
// whose private namespace receives them through salvo's shared bind of containers/ (DESIGN §12).
// Only when that bind could not be made does salvo-exec enter crun's namespace for the same two
// calls (its --mount-overlay and --detach verbs): a thread of the launcher cannot setns there.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SalvoError } from '../errors.js';
import { native } from '../native.js';
import { readMountinfo, unescapeMountPath } from './mountinfo.js';
import type { MountHelper, RuntimeInvocation } from '../types.js';

const run = promisify(execFile);

/** Mounts made in the launcher's own namespace, by the addon: no process per mount. */
export const HOST_MOUNTS: MountHelper = { file: null, prefix: [], mountinfo: '/proc/self/mountinfo' };

/** The helper for a runtime invocation: salvo-exec with its first two args (launcher pid, namespace or '-'). */
export function mountHelperFor(invocation: RuntimeInvocation): MountHelper {
  if (invocation.prefix.length < 3) return HOST_MOUNTS;
  const [parent = '', namespace = '-'] = invocation.prefix;
  const mountinfo = namespace === '-' ? '/proc/self/mountinfo' : namespace.replace(/ns\/mnt$/, 'mountinfo');
  return { file: invocation.file, prefix: [parent, namespace], mountinfo };
}

/** True when mounts are made in the launcher's own namespace (runc, or crun without the workaround). */
const inOwnNamespace = (helper: MountHelper): boolean => helper.file === null || helper.prefix[1] === '-';

async function runMountVerb(helper: MountHelper, verb: '--mount-overlay' | '--detach', args: string[]): Promise<void> {
  await run(helper.file as string, [...helper.prefix, verb, ...args], { timeout: 30_000 });
}

/** The merged directory of a process directory's overlay. */
export const mergedDir = (dir: string): string => join(dir, 'rootfs');

/** Mounts the overlay for a container and returns its merged directory (root.path of the derived config). */
export async function mountOverlay(helper: MountHelper, lower: string, dir: string): Promise<string> {
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = mergedDir(dir);
  for (const path of [lower, upper, work, merged]) {
    if (/[,:\s\\]/.test(path)) {
      throw new SalvoError(
        'ERR_IMAGE_MOUNT',
        `cannot mount an overlay with ${path}: a path with ',', ':', '\\' or spaces cannot be an overlay option`,
      );
    }
  }
  for (const path of [upper, work, merged]) mkdirSync(path, { mode: 0o755 });
  const options = `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
  try {
    if (inOwnNamespace(helper)) native().mountOverlay(options, merged);
    else await runMountVerb(helper, '--mount-overlay', [options, merged]);
  } catch (error) {
    const said = String((error as { stderr?: unknown }).stderr ?? '').trim() || (error as Error).message;
    throw new SalvoError('ERR_IMAGE_MOUNT', `cannot mount the overlay rootfs at ${merged}: ${said}`, { cause: error });
  }
  return merged;
}

/** Overlay mount points in a mountinfo file that lie under `under` (salvo's own: never anything else). */
export function overlayMountsUnder(mountinfo: string, under: string): string[] {
  const prefix = under.endsWith('/') ? under : `${under}/`;
  return readMountinfo(mountinfo)
    .filter((entry) => entry.fstype === 'overlay' && entry.point.startsWith(prefix))
    .map((entry) => entry.point);
}

/**
 * Unmounts every salvo overlay under the given directories (process or container directories), from
 * one read of the mountinfo. A lazy detach: the container is gone, and a plain umount waits out an
 * RCU grace period (10-40 ms measured). It runs on a libuv pool thread: the overlay's teardown
 * (its last reference goes: ~4-8 ms measured) then keeps the worker's event loop free for starts.
 */
export async function unmountUnder(helper: MountHelper, dirs: readonly string[]): Promise<number> {
  if (dirs.length === 0) return 0;
  const prefixes = dirs.map((dir) => (dir.endsWith('/') ? dir : `${dir}/`));
  const points = overlayMountsUnder(helper.mountinfo, '/')
    .filter((point) => prefixes.some((prefix) => point.startsWith(prefix)))
    .sort()
    .reverse();
  for (const point of points) {
    if (inOwnNamespace(helper)) await native().unmountDetachAsync(point);
    else await runMountVerb(helper, '--detach', [point]);
  }
  return points.length;
}

/** The lower directories of every overlay in a mountinfo file (an image under one is in use). */
export function overlayLowerDirs(mountinfo: string): Set<string> {
  const lowers = new Set<string>();
  for (const entry of readMountinfo(mountinfo)) {
    if (entry.fstype !== 'overlay') continue;
    for (const option of entry.superOptions.split(',')) {
      if (option.startsWith('lowerdir=')) for (const dir of option.slice('lowerdir='.length).split(':')) lowers.add(unescapeMountPath(dir));
    }
  }
  return lowers;
}
