// gc's work: finished containers' runtime state, process directories and old records go; a
// running, starting or recently finished container is never touched, and neither is what the
// runtime still has (paused, running, a delete it refused).
import type { SalvoError } from '../errors.js';
import { deleteArgs } from '../runtime/argv.js';
import { removeRunDirs } from './gc-dirs.js';
import type { Lifecycle } from './lifecycle.js';

export interface GcResult {
  containersDeleted: string[];
  directoriesRemoved: number;
  recordsPruned: number;
  /** Deletes the runtime refused: those containers keep their record and directory, for a later gc. */
  failed: { id: string; message: string }[];
}

/**
 * Removes what finished before `cutoff` (epoch ms); `list` asks the runtime what it knows.
 * `removeEmptyCgroups` gets the ids whose leftover cgroups may go (the runtime forgot them).
 */
export async function removeFinished(
  lifecycle: Lifecycle,
  list: () => Promise<{ id: string; status: string }[]>,
  cutoff: number,
  removeEmptyCgroups: (orphaned: (id: string) => boolean) => void,
): Promise<GcResult> {
  const { store } = lifecycle;
  // Deletes in flight (after an exit, recovery's force-deletes) first: a second one of the same container fails.
  await Promise.allSettled([...lifecycle.deletes.values()]);
  const known = await list();
  // A container's exec'd processes may outlive its init (host pid namespace): their files stay too.
  const live = new Set(lifecycle.registry.all().map((l) => l.id));
  const busy = (id: string): boolean => live.has(id) || lifecycle.starting.has(id);
  const finishedBefore = (id: string): boolean => {
    const record = store.get(id);
    return record === undefined || (record.state !== 'running' && record.state !== 'subscribed' && (record.exitedAt ?? 0) <= cutoff);
  };
  const result: GcResult = { containersDeleted: [], directoriesRemoved: 0, recordsPruned: 0, failed: [] };
  const doomed = known.filter((c) => c.status !== 'running' && c.status !== 'paused' && !busy(c.id) && finishedBefore(c.id));
  // The pool bounds how many deletes run at once; one that fails does not stop the others.
  await Promise.all(doomed.map((c) => gcDelete(c.id, () => lifecycle.runtimeCommand(c.id, deleteArgs(c.id, { force: true }), 'normal'), result)));
  // What the runtime still has (paused, running, a failed delete) keeps its record and directory.
  const deleted = new Set(result.containersDeleted);
  const kept = new Set(known.filter((c) => !deleted.has(c.id)).map((c) => c.id));
  Object.assign(result, await removeRunDirs(lifecycle, cutoff, kept, busy));
  // Leaves of containers the runtime has forgotten (a delete cut short) go too; the rest are its to remove.
  const stillKnown = new Set((await list()).map((c) => c.id));
  removeEmptyCgroups((id) => !stillKnown.has(id) && !busy(id) && !lifecycle.deletes.has(id));
  return result;
}

/** One delete of gc: a container already gone counts as deleted; another failure is noted, not thrown. */
async function gcDelete(id: string, remove: () => Promise<unknown>, result: GcResult): Promise<void> {
  try {
    await remove();
    result.containersDeleted.push(id);
  } catch (error) {
    const message = (error as Error).message;
    const gone = (error as SalvoError).code === 'ERR_RUNTIME_FAILED' && /does not exist|no such file or directory/i.test(message);
    if (gone) result.containersDeleted.push(id);
    else result.failed.push({ id, message });
  }
}
