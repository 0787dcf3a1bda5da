// A read-only rootfs (the default busybox one is shared by every container) must stay unchanged,
// but runc creates a missing cwd or mount point in it before it makes it read-only. So a path
// salvo adds (a cwd, a mount's destination) must exist in the rootfs or lie under a mount.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';

type Json = Record<string, unknown>;

/** Throws ERR_INVALID_SPEC when the runtime would have to create `cwd` or an added mount point in a read-only rootfs. */
export function checkNothingCreatedInRootfs(config: Json, rootfs: string, cwd: string | undefined, added: readonly string[]): void {
  if ((config.root as Json | undefined)?.readonly !== true) return; // a writable rootfs is its owner's to change
  const mounts = Array.isArray(config.mounts) ? (config.mounts as Json[]) : [];
  const destinations = mounts.map((mount) => String(mount.destination ?? ''));
  for (const destination of added) {
    // The runtime mounts in order: what an added mount may lie under is mounted before it.
    const before = destinations.slice(0, destinations.lastIndexOf(destination));
    if (!isProvided(rootfs, destination, before)) throw missing(`the mount point ${destination}`, rootfs);
  }
  if (cwd !== undefined && !isProvided(rootfs, cwd, destinations)) throw missing(`cwd ${cwd}`, rootfs);
}

function missing(what: string, rootfs: string): SalvoError {
  return new SalvoError(
    'ERR_INVALID_SPEC',
    `${what} does not exist in the read-only rootfs ${rootfs}, and salvo does not let the runtime create it there ` +
      '(the rootfs is shared): use a directory that exists (the default bundle has /work, /src, /app, /mnt), one under /tmp, ' +
      'or a volume or tmpfs mounted at it or above it',
    { details: { rootfs } },
  );
}

/** True when `path` exists in the rootfs, or under one of `mounts` (which the runtime mounts first). */
function isProvided(rootfs: string, path: string, mounts: readonly string[]): boolean {
  if (mounts.some((mount) => mount !== '' && (path === mount || path.startsWith(`${mount.replace(/\/$/, '')}/`)))) return true;
  let current = rootfs;
  for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
    current = join(current, part);
    try {
      // A symlink is resolved by the runtime inside the rootfs: it is not ours to follow here.
      if (lstatSync(current).isSymbolicLink()) return true;
    } catch {
      return false;
    }
  }
  return true;
}
