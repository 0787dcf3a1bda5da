// gc's work: finished containers' runtime state, process directories and old records go; a
// running, starting or recently finished container is never touched, and neither is what a
// runtime still has (running, a delete it refused). It covers every runtime and --root the
// store has records for, not only the launcher's own.
import { deleteArgs, resumeArgs } from '../runtime/argv.js';
import { removeRunDirs } from './gc-dirs.js';
import type { Lifecycle } from './lifecycle.js';

export interface GcResult {
  containersDeleted: string[];
  directoriesRemoved: number;
  recordsPruned: number;
  /** Deletes the runtime refused: those containers keep their record and directory, for a later gc. */
  failed: { id: string; message: string }[];
}

/** One runtime (binary and --root) whose containers gc may delete. */
export interface GcRuntime {
  /** What the runtime knows under its --root (id and status). */
  list: () => Promise<{ id: string; status: string }[]>;
  /** One runtime command about a container; rejects with the runtime's error. */
  command: (id: string, args: string[]) => Promise<unknown>;
}

/**
 * Removes what finished before `cutoff` (epoch ms) from every runtime in `runtimes`.
 * `removeEmptyCgroups` gets the ids whose leftover cgroups may go (every runtime forgot them).
 */
export async function removeFinished(
  lifecycle: Lifecycle,
  runtimes: readonly GcRuntime[],
  cutoff: number,
  removeEmptyCgroups: (orphaned: (id: string) => boolean) => void,
): Promise<GcResult> {
  const { store } = lifecycle;
  // Deletes in flight (after an exit, recovery's force-deletes) first: a second one of the same container fails.
  await Promise.allSettled([...lifecycle.tracking.deletes.values()]);
  // A container's exec'd processes may outlive its init (host pid namespace): their files stay too.
  const live = new Set(lifecycle.tracking.registry.all().map((l) => l.id));
  const busy = (id: string): boolean => live.has(id) || lifecycle.starting.has(id);
  const finishedBefore = (id: string): boolean => {
    const record = store.get(id);
    return record === undefined || (record.state !== 'running' && record.state !== 'subscribed' && (record.exitedAt ?? 0) <= cutoff);
  };
  const result: GcResult = { containersDeleted: [], directoriesRemoved: 0, recordsPruned: 0, failed: [] };
  const kept = new Set<string>();
  for (const runtime of runtimes) {
    for (const id of await deleteFinished(runtime, (id) => !busy(id) && finishedBefore(id), result)) kept.add(id);
  }
  // A failed delete after an exit is shown until its container is gone: now it is, unless a runtime still has it.
  for (const id of lifecycle.tracking.cleanup.keys()) if (!kept.has(id)) lifecycle.tracking.cleanup.delete(id);
  // What a runtime still has (paused, running, a failed delete) keeps its records and directories.
  Object.assign(result, await removeRunDirs(lifecycle, cutoff, kept, busy));
  // Leaves of containers every runtime has forgotten (a delete cut short) go too; the rest are theirs to remove.
  removeEmptyCgroups((id) => !kept.has(id) && !busy(id) && !lifecycle.tracking.deletes.has(id));
  return result;
}

/**
 * Deletes one runtime's finished containers (`doomed`) and returns the ids it still has. A paused
 * one nobody watches (a launcher killed inside `runc delete` leaves its cgroup frozen) is thawed
 * first; a delete that fails is noted, not thrown, unless the runtime forgot the container anyway.
 */
async function deleteFinished(runtime: GcRuntime, doomed: (id: string) => boolean, result: GcResult): Promise<string[]> {
  const known = await runtime.list();
  const failed = new Map<string, string>();
  const remove = async ({ id, status }: { id: string; status: string }): Promise<void> => {
    try {
      // runc refuses to delete a paused container whose init still lives; a failed thaw is the delete's to report.
      if (status === 'paused') await runtime.command(id, resumeArgs(id)).catch(() => undefined);
      await runtime.command(id, deleteArgs(id, { force: true }));
    } catch (error) {
      failed.set(id, (error as Error).message);
    }
  };
  // The pool bounds how many deletes run at once; one that fails does not stop the others.
  const attempted = known.filter((c) => c.status !== 'running' && doomed(c.id));
  await Promise.all(attempted.map(remove));
  const stillKnown = new Set((await runtime.list()).map((c) => c.id));
  for (const { id } of attempted) {
    // "Already gone" (a delete raced it, or half-done) is success: the runtime's own list says so.
    if (!stillKnown.has(id)) result.containersDeleted.push(id);
    else result.failed.push({ id, message: failed.get(id) ?? 'the runtime still lists it after its delete' });
  }
  return [...stillKnown];
}
