// The cgroups salvo gives its containers (DESIGN §13): `/salvo-<hash of the state dir>/<id>` in
// every hierarchy, so that two state directories (or a host cgroup) with the same id never share
// one, and the empty parents are removed again by gc, recovery and close.
// Absolute on purpose: runc 1.1 reads a relative cgroupsPath below its own cgroup in each
// hierarchy (cgroupfs driver), crun 1.8 below the root; an absolute path means the same to both.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, realpathSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const parentNames = new Map<string, string>();

/**
 * The one parent cgroup of a state directory's containers, e.g. `salvo-3f9c0a1b2c4d`: a hash of
 * its real path, so that every way of naming the directory finds the same parent.
 */
export function cgroupParentName(stateDir: string): string {
  let name = parentNames.get(stateDir);
  if (name === undefined) {
    let real = stateDir;
    try {
      real = realpathSync(stateDir);
    } catch {
      // not made yet: its own name
    }
    name = `salvo-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
    parentNames.set(stateDir, name);
  }
  return name;
}

/** The cgroupsPath salvo gives a container of this state directory. */
export function containerCgroupPath(stateDir: string, id: string): string {
  return `/${cgroupParentName(stateDir)}/${id}`;
}

/** Mount points of the host's cgroup hierarchies (v1 controllers, named ones, the cgroup2 mount). */
export function cgroupMounts(mountinfo = '/proc/self/mountinfo'): string[] {
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return [];
  }
  const mounts = new Set<string>();
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const fstype = after.split(' ')[0];
    const mountPoint = before.split(' ')[4];
    if ((fstype === 'cgroup' || fstype === 'cgroup2') && mountPoint !== undefined) mounts.add(unescapeMountPath(mountPoint));
  }
  return [...mounts];
}

/**
 * Removes the state directory's empty cgroups: each child of its parent whose id `keep` does not
 * name, then (with parentToo) the parent. rmdir(2) only removes a cgroup without processes or children, so nothing
 * that runs is touched; whatever is busy stays (no error). Returns how many directories went.
 */
export function removeEmptyCgroups(stateDir: string, keep: (id: string) => boolean = () => false, parentToo = true, mounts = cgroupMounts()): number {
  const parentName = cgroupParentName(stateDir);
  let removed = 0;
  for (const mount of mounts) {
    const parent = join(mount, parentName);
    let children: string[];
    try {
      children = readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      continue; // this hierarchy has none
    }
    for (const id of children) if (!keep(id) && rmdirQuietly(join(parent, id))) removed++;
    if (parentToo && rmdirQuietly(parent)) removed++;
  }
  return removed;
}

function rmdirQuietly(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false; // busy (EBUSY, ENOTEMPTY) or gone
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
