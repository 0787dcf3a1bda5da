// The live view of failed deletes after exits (DESIGN §3 step 6): a container's newest init record
// carries its `cleanup` while the launcher retries its delete or has left it for gc; `salvo ps`
// lists such records beside the running ones.
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { ListFilter, Store } from '../store/store.js';
import type { Cleanup, ProcessRecord } from '../types.js';

/** What Launcher.list() takes: the store's filter, and whether records of failed deletes come too. */
export interface RecordFilter extends ListFilter {
  /** Also the records of containers whose runtime delete after the exit failed (pending or given up). */
  withCleanup?: boolean;
}

export function listWithCleanup(store: Store, cleanup: ReadonlyMap<string, Cleanup>, filter: RecordFilter): ProcessRecord[] {
  const records = store.list(filter);
  if (filter.withCleanup === true) {
    const listed = new Set(records.map((r) => r.seq));
    for (const id of cleanup.keys()) {
      const record = store.get(id);
      if (record !== undefined && !listed.has(record.seq)) records.push(record);
    }
  }
  return records.map((r) => withCleanup(store, cleanup, r));
}

/** The record with its container's failed delete, when it is that container's newest init record. */
export function withCleanup(store: Store, cleanup: ReadonlyMap<string, Cleanup>, record: ProcessRecord): ProcessRecord {
  const trouble = record.execId === INIT_EXEC_ID ? cleanup.get(record.id) : undefined;
  if (trouble === undefined || store.get(record.id)?.seq !== record.seq) return record;
  return { ...record, cleanup: { ...trouble } };
}
