// gc's work: finished containers' runtime state, process directories and old records go; a
// running, starting or recently finished container is never touched.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteArgs } from '../runtime/argv.js';
import type { Lifecycle } from './lifecycle.js';

export interface GcResult {
  containersDeleted: string[];
  directoriesRemoved: number;
  recordsPruned: number;
}

/** Removes what finished before `cutoff` (epoch ms); `known` is what the runtime lists. */
export async function removeFinished(lifecycle: Lifecycle, known: { id: string; status: string }[], cutoff: number): Promise<GcResult> {
  const { store } = lifecycle;
  // A container's exec'd processes may outlive its init (host pid namespace): their files stay too.
  const live = new Set(lifecycle.registry.all().map((l) => l.id));
  const busy = (id: string): boolean => live.has(id) || lifecycle.starting.has(id);
  const finishedBefore = (id: string): boolean => {
    const record = store.get(id);
    return record === undefined || (record.state !== 'running' && record.state !== 'subscribed' && (record.exitedAt ?? 0) <= cutoff);
  };
  const result: GcResult = { containersDeleted: [], directoriesRemoved: 0, recordsPruned: 0 };
  const doomed = known.filter((c) => c.status !== 'running' && c.status !== 'paused' && !busy(c.id) && finishedBefore(c.id));
  // The pool bounds how many deletes run at once.
  await Promise.all(
    doomed.map(async (c) => {
      await lifecycle.runtimeCommand(c.id, deleteArgs(c.id, { force: true }), 'normal');
      result.containersDeleted.push(c.id);
    }),
  );
  const containers = join(lifecycle.stateDir, 'containers');
  const removable = readdirSync(containers).filter((id) => !busy(id) && finishedBefore(id));
  // An image's overlay goes before its directory (rm would otherwise walk into the mount).
  await lifecycle.pool.run('unmount', { mount: lifecycle.mountHelper, dirs: removable.map((id) => join(containers, id)) }, 'normal');
  for (const id of removable) {
    rmSync(join(containers, id), { recursive: true, force: true });
    result.directoriesRemoved++;
  }
  result.recordsPruned = store.prune(cutoff);
  return result;
}
