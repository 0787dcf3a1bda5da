// gc's process directories, run by run (DESIGN §4): a pruned record's directory goes with it, a
// directory no record names (a gc or a start cut short) goes too, and a container's directory once
// it is empty. Directories of records before per-run directories (`containers/<id>/init`) are
// removed only once no record names them.
import { lstatSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SHARED_EXIT_STATUS_DIR } from '../io/process-dir.js';
import type { Lifecycle } from './lifecycle.js';

export interface RunDirsResult {
  directoriesRemoved: number;
  recordsPruned: number;
}

/**
 * Prunes the records that finished by `cutoff` (none of the ids in `kept`: the runtime still has
 * them) and removes their directories, except while the id is `busy` (a later gc removes them).
 */
export async function removeRunDirs(
  lifecycle: Lifecycle,
  cutoff: number,
  kept: ReadonlySet<string>,
  busy: (id: string) => boolean,
): Promise<RunDirsResult> {
  const { store } = lifecycle;
  const containers = join(lifecycle.stateDir, 'containers');
  const ids = kept.size === 0 ? undefined : [...new Set(store.list().map((r) => r.id))].filter((id) => !kept.has(id));
  const pruned = store.prunable(cutoff, ids);
  const named = store.recordDirs();
  const candidates = new Set(pruned.filter((r) => !busy(r.id)).map((r) => r.dir));
  const visited = new Set<string>();
  for (const id of safeReaddir(containers)) {
    if (id === SHARED_EXIT_STATUS_DIR) continue;
    if (busy(id) || kept.has(id) || !isRealDirectory(join(containers, id))) continue;
    visited.add(join(containers, id));
    for (const entry of safeReaddir(join(containers, id))) {
      const dir = join(containers, id, entry);
      if (!named.has(dir)) candidates.add(dir);
    }
  }
  // An image's overlay goes before its directory (rm would otherwise walk into the mount).
  await lifecycle.pool.run('unmount', { mount: lifecycle.mountHelper, dirs: [...candidates] }, 'normal');
  // From here on synchronous: no start can name a directory between this check and the rm.
  const recordsPruned = store.forget(pruned.map((r) => r.seq));
  const stillNamed = store.recordDirs();
  let directoriesRemoved = 0;
  const touched = new Set(visited);
  for (const dir of candidates) {
    if (stillNamed.has(dir) || !isRealDirectory(dirname(dir))) continue;
    rmSync(dir, { recursive: true, force: true });
    directoriesRemoved++;
    touched.add(dirname(dir));
  }
  for (const containerDir of touched) {
    try {
      rmdirSync(containerDir); // only once empty: another run or an exec keeps it
    } catch {
      // not empty, or already gone
    }
  }
  // The exitStatus files' shared targets (process-dir.ts) go with the last process directory.
  const left = safeReaddir(containers);
  if (left.length === 1 && left[0] === SHARED_EXIT_STATUS_DIR) rmSync(join(containers, SHARED_EXIT_STATUS_DIR), { recursive: true, force: true });
  return { directoriesRemoved, recordsPruned };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `containers/<id>` as salvo made it: never followed through a link (DESIGN §13). */
function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
