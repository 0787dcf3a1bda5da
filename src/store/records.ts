// The read-only query API over a state directory's records (salvo ps, inspect, logs, kill, exec
// use it beside a launcher that may be running): what the store answers, nothing it writes.
import { join } from 'node:path';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { ProcessRecord } from '../types.js';
import { Store, type ListFilter } from './store.js';

export type { ListFilter } from './store.js';

export class RecordReader {
  readonly #store: Store;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Opens `<stateDir>/salvo.db` read-only; null when no launcher ever ran there. */
  static open(stateDir: string): RecordReader | null {
    const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
    return store === null ? null : new RecordReader(store);
  }

  /** The newest record of a container (or of one of its execs). */
  get(id: string, execId: string = INIT_EXEC_ID): ProcessRecord | undefined {
    return this.#store.get(id, execId);
  }

  list(filter: ListFilter = {}): ProcessRecord[] {
    return this.#store.list(filter);
  }

  /** The runtime binary and --root of the launcher that started this container, if recorded. */
  runtimeFor(id: string): { path: string; root: string } | null {
    return this.#store.runtimeFor(id);
  }

  close(): void {
    this.#store.close();
  }
}
