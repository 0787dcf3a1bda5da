// The SQLite store of pid-to-subscription records (DESIGN §7). Main thread only; statements
// are prepared once and every reap pass commits in one transaction.
import Database from 'better-sqlite3';
import { SalvoError } from '../errors.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { ProcessRecord, RecordState } from '../types.js';
import { SCHEMA_VERSION, migrate } from './schema.js';
import { guarded, storeError } from './store-error.js';

export interface Subscription {
  id: string;
  execId: string;
  /** The process directory; with `numbered`, a stem the record's seq completes (`…/init.` → `…/init.7`). */
  dir: string;
  numbered?: boolean;
  bundle: string | null;
  batchId: string | null;
  labels: Record<string, string> | null;
  at: number;
}

export interface ExitRow {
  seq: number;
  state: 'exited' | 'lost';
  exitCode: number;
  signal: string | null;
  userUs: number | null;
  systemUs: number | null;
  maxRssKb: number | null;
  at: number;
  /** The running mark not written yet (the exit came in the pass that began tracking it): written with the exit. */
  started?: { pid: number; pidStartTime: number; at: number };
}

export interface FailureRow {
  seq: number;
  runtimeExitCode: number | null;
  errorCode: string;
  errorMessage: string;
  at: number;
}

export interface OrphanRow {
  pid: number;
  exitCode: number | null;
  signal: string | null;
  at: number;
}

export interface ListFilter {
  id?: string;
  states?: readonly RecordState[];
  batchId?: string;
  limit?: number;
}

interface Row {
  seq: number;
  container_id: string;
  exec_id: string;
  state: RecordState;
  pid: number | null;
  pid_start_time: number | null;
  runtime_exit_code: number | null;
  error_code: string | null;
  error_message: string | null;
  exit_code: number | null;
  signal: string | null;
  user_us: number | null;
  system_us: number | null;
  max_rss_kb: number | null;
  subscribed_at: number;
  started_at: number | null;
  exited_at: number | null;
  batch_id: string | null;
  labels: string | null;
  bundle: string | null;
  dir: string;
  launcher: number;
}

export interface UnresolvedRecord extends ProcessRecord {
  launcher: number;
}

function toRecord(row: Row): UnresolvedRecord {
  return {
    seq: row.seq,
    id: row.container_id,
    execId: row.exec_id,
    state: row.state,
    pid: row.pid,
    pidStartTime: row.pid_start_time,
    runtimeExitCode: row.runtime_exit_code,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    exitCode: row.exit_code,
    signal: row.signal,
    rusage: row.user_us === null ? null : { userMs: row.user_us / 1000, systemMs: (row.system_us ?? 0) / 1000, maxRssKb: row.max_rss_kb ?? 0 },
    subscribedAt: row.subscribed_at,
    startedAt: row.started_at,
    exitedAt: row.exited_at,
    batchId: row.batch_id,
    labels: row.labels === null ? {} : (JSON.parse(row.labels) as Record<string, string>),
    bundle: row.bundle,
    dir: row.dir,
    launcher: row.launcher,
  };
}

export class Store {
  readonly #db: Database.Database;
  /** The database file, named in every error. */
  readonly #file: string;
  readonly instance: number;
  readonly #insert: Database.Statement;
  readonly #insertNumbered: Database.Statement;
  readonly #setRunning: Database.Statement;
  readonly #setFailed: Database.Statement;
  readonly #setExit: Database.Statement;
  readonly #insertOrphan: Database.Statement;
  readonly #latest: Database.Statement;
  readonly #inBatch: Database.Statement;
  readonly #recordExits: (rows: readonly ExitRow[]) => number;

  private constructor(db: Database.Database, instance: number, file: string) {
    this.#db = db;
    this.#file = file;
    this.instance = instance;
    this.#insert = db.prepare(
      `INSERT INTO processes (container_id, exec_id, state, subscribed_at, batch_id, labels, bundle, dir, launcher)
       VALUES (?, ?, 'subscribed', ?, ?, ?, ?, ?, ?)`,
    );
    // The seq SQLite would pick (max + 1), chosen in the statement so the directory can name it.
    this.#insertNumbered = db.prepare(
      `INSERT INTO processes (seq, container_id, exec_id, state, subscribed_at, batch_id, labels, bundle, dir, launcher)
       SELECT n, ?, ?, 'subscribed', ?, ?, ?, ?, ? || n, ? FROM (SELECT ifnull(max(seq), 0) + 1 AS n FROM processes)`,
    );
    this.#setRunning = db.prepare(
      `UPDATE processes SET state = 'running', pid = ?, pid_start_time = ?, started_at = ?
       WHERE seq = ? AND state = 'subscribed'`,
    );
    this.#setFailed = db.prepare(
      `UPDATE processes SET state = 'failed', runtime_exit_code = ?, error_code = ?, error_message = ?, exited_at = ?
       WHERE seq = ? AND state IN ('subscribed', 'running')`,
    );
    this.#setExit = db.prepare(
      `UPDATE processes SET state = ?, exit_code = ?, signal = ?, user_us = ?, system_us = ?, max_rss_kb = ?, exited_at = ?,
         pid = coalesce(pid, ?), pid_start_time = coalesce(pid_start_time, ?), started_at = coalesce(started_at, ?)
       WHERE seq = ? AND state IN ('subscribed', 'running')`,
    );
    this.#insertOrphan = db.prepare(`INSERT INTO orphans (pid, exit_code, signal, reaped_at) VALUES (?, ?, ?, ?)`);
    this.#latest = db.prepare(`SELECT * FROM processes WHERE container_id = ? AND exec_id = ? ORDER BY seq DESC LIMIT 1`);
    this.#inBatch = db.prepare(`SELECT 1 FROM processes WHERE batch_id = ? AND container_id = ? LIMIT 1`);
    const setExit = this.#setExit;
    this.#recordExits = db.transaction((rows: readonly ExitRow[]) => {
      let changed = 0;
      for (const r of rows) {
        const started = r.started;
        changed += setExit.run(
          r.state,
          r.exitCode,
          r.signal,
          r.userUs,
          r.systemUs,
          r.maxRssKb,
          r.at,
          started?.pid ?? null,
          started?.pidStartTime ?? null,
          started?.at ?? null,
          r.seq,
        ).changes;
      }
      return changed;
    });
  }

  /** Opens (creating and migrating) the database and registers this launcher instance. */
  static open(file: string, launcher: { pid: number; pidStartTime: number | null; bootId: string | null }): Store {
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      const info = db
        .prepare(`INSERT INTO launcher (pid, pid_start_time, boot_id, opened_at) VALUES (?, ?, ?, ?)`)
        .run(launcher.pid, launcher.pidStartTime, launcher.bootId, Date.now());
      return new Store(db, Number(info.lastInsertRowid), file);
    } catch (error) {
      db?.close();
      throw storeError(error, `cannot open the store ${file}`);
    }
  }

  /**
   * A read-only view for CLI commands that run beside a launcher (ps, inspect, logs, kill):
   * WAL lets them read while the launcher writes. Null when no launcher ever used the directory.
   */
  static openReadOnly(file: string): Store | null {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') return null;
      throw storeError(error, `cannot read the store ${file}`);
    }
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === SCHEMA_VERSION) return new Store(db, 0, file);
      db.close();
      if (version === 0) return null;
      throw new SalvoError('ERR_STORE', `the store ${file} has schema version ${version}, this salvo reads ${SCHEMA_VERSION}`);
    } catch (error) {
      if (db.open) db.close();
      throw storeError(error, `cannot read the store ${file}`);
    }
  }

  /** The runtime binary and --root of the launcher that started a container's newest record. */
  runtimeFor(id: string): { path: string; root: string } | null {
    const row = this.#read(() =>
      this.#db
        .prepare(
          `SELECT l.runtime AS path, l.runtime_root AS root FROM processes p JOIN launcher l ON l.instance = p.launcher
         WHERE p.container_id = ? ORDER BY p.seq DESC LIMIT 1`,
        )
        .get(id),
    ) as { path: string | null; root: string | null } | undefined;
    return row?.path == null || row.root == null ? null : { path: row.path, root: row.root };
  }

  /** Every runtime binary and --root a launcher instance on this store drove (gc covers them all). */
  runtimes(): { path: string; root: string }[] {
    return this.#read(
      () =>
        this.#db
          .prepare(`SELECT DISTINCT runtime AS path, runtime_root AS root FROM launcher WHERE runtime IS NOT NULL AND runtime_root IS NOT NULL`)
          .all() as { path: string; root: string }[],
    );
  }

  /** Step 1 of every launch: the record exists before anything is spawned. */
  subscribe(s: Subscription): number {
    try {
      const labels = s.labels === null ? null : JSON.stringify(s.labels);
      const insert = s.numbered === true ? this.#insertNumbered : this.#insert;
      return Number(insert.run(s.id, s.execId, s.at, s.batchId, labels, s.bundle, s.dir, this.instance).lastInsertRowid);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const what = s.execId === INIT_EXEC_ID ? `container ${s.id}` : `exec ${s.execId} of container ${s.id}`;
        throw new SalvoError('ERR_ID_IN_USE', `${what} is already subscribed or running`, { cause: error });
      }
      throw storeError(error, `cannot write the record of ${s.id} in the store ${this.#file}`);
    }
  }

  markRunning(seq: number, pid: number, pidStartTime: number, at: number): void {
    this.#write(`cannot mark record ${seq} running`, () => this.#setRunning.run(pid, pidStartTime, at, seq));
  }

  /** Idempotent: a record already final is left as it is (a retry after a failed commit). */
  markFailed(f: FailureRow): void {
    this.#write(`cannot mark record ${f.seq} failed`, () => this.#setFailed.run(f.runtimeExitCode, f.errorCode, f.errorMessage, f.at, f.seq));
  }

  /**
   * All the exits of one reap pass, in one transaction (all or none). Returns how many rows changed;
   * a row already final is left as it is, so a retry after a failed commit records each exit once.
   */
  recordExits(rows: readonly ExitRow[]): number {
    return rows.length === 0 ? 0 : this.#write(`cannot record ${rows.length} exits`, () => this.#recordExits(rows));
  }

  recordOrphans(rows: readonly OrphanRow[]): void {
    this.#write(`cannot record ${rows.length} orphans`, () =>
      this.#db.transaction(() => {
        for (const r of rows) this.#insertOrphan.run(r.pid, r.exitCode, r.signal, r.at);
      })(),
    );
  }

  /** The newest record of a container's init (or of one exec). */
  get(id: string, execId = INIT_EXEC_ID): ProcessRecord | undefined {
    const row = this.#read(() => this.#latest.get(id, execId)) as Row | undefined;
    return row === undefined ? undefined : stripLauncher(toRecord(row));
  }

  list(filter: ListFilter = {}): ProcessRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.id !== undefined) {
      where.push('container_id = ?');
      params.push(filter.id);
    }
    if (filter.batchId !== undefined) {
      where.push('batch_id = ?');
      params.push(filter.batchId);
    }
    if (filter.states !== undefined && filter.states.length > 0) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      params.push(...filter.states);
    }
    const sql =
      `SELECT * FROM processes${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq` +
      (filter.limit !== undefined && Number.isFinite(filter.limit) ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '');
    return (this.#read(() => this.#db.prepare(sql).all(...params)) as Row[]).map((row) => stripLauncher(toRecord(row)));
  }

  /** Records left subscribed or running by earlier launcher instances (recovery input). */
  unresolved(): UnresolvedRecord[] {
    return (
      this.#read(() =>
        this.#db.prepare(`SELECT * FROM processes WHERE state IN ('subscribed', 'running') AND launcher != ? ORDER BY seq`).all(this.instance),
      ) as Row[]
    ).map(toRecord);
  }

  orphans(): OrphanRow[] {
    return (
      this.#read(() => this.#db.prepare(`SELECT pid, exit_code, signal, reaped_at FROM orphans ORDER BY rowid`).all()) as {
        pid: number;
        exit_code: number | null;
        signal: string | null;
        reaped_at: number;
      }[]
    ).map((r) => ({ pid: r.pid, exitCode: r.exit_code, signal: r.signal, at: r.reaped_at }));
  }

  /** Deletes finished records (exited, failed, lost) that ended at or before `cutoff` (gc's rule for directories too); returns the count. */
  prune(cutoff: number, ids?: readonly string[]): number {
    return this.forget(this.prunable(cutoff, ids).map((r) => r.seq));
  }

  /** The finished records that ended at or before `cutoff` (of `ids` only, when given): what prune would delete. */
  prunable(cutoff: number, ids?: readonly string[]): { seq: number; id: string; dir: string }[] {
    const finished = `state NOT IN ('subscribed', 'running') AND exited_at <= ?`;
    type Pruned = { seq: number; container_id: string; dir: string };
    const rows = this.#read(() =>
      ids === undefined
        ? (this.#db.prepare(`SELECT seq, container_id, dir FROM processes WHERE ${finished} ORDER BY seq`).all(cutoff) as Pruned[])
        : ids.flatMap(
            (id) =>
              this.#db
                .prepare(`SELECT seq, container_id, dir FROM processes WHERE container_id = ? AND ${finished} ORDER BY seq`)
                .all(id, cutoff) as Pruned[],
          ),
    );
    return rows.map((r) => ({ seq: r.seq, id: r.container_id, dir: r.dir }));
  }

  /** Deletes these finished records (a live one is never deleted); returns how many went. */
  forget(seqs: readonly number[]): number {
    return this.#write('cannot prune records', () => {
      const statement = this.#db.prepare(`DELETE FROM processes WHERE seq = ? AND state NOT IN ('subscribed', 'running')`);
      return this.#db.transaction(() => seqs.reduce((n, seq) => n + statement.run(seq).changes, 0))();
    });
  }

  /** Every process directory a record names (gc keeps them). */
  recordDirs(): Set<string> {
    return new Set(this.#read(() => this.#db.prepare(`SELECT dir FROM processes`).pluck().all() as string[]));
  }

  /** True when this batch already has a record for this container id. */
  hasInBatch(batchId: string, id: string): boolean {
    return this.#read(() => this.#inBatch.get(batchId, id)) !== undefined;
  }

  /** Which runtime (path and --root) this launcher instance drives: CLI commands reuse it. */
  setRuntime(path: string, root: string): void {
    this.#write('cannot record the runtime', () =>
      this.#db.prepare(`UPDATE launcher SET runtime = ?, runtime_root = ? WHERE instance = ?`).run(path, root, this.instance),
    );
  }

  integrityCheck(): string {
    return this.#read(() => this.#db.pragma('integrity_check', { simple: true }) as string);
  }

  /** Closes the database even when the launcher's closing time cannot be written (then throws that). */
  close(): void {
    if (!this.#db.open) return;
    try {
      if (!this.#db.readonly)
        this.#write('cannot record the launcher closing', () =>
          this.#db.prepare(`UPDATE launcher SET closed_at = ? WHERE instance = ?`).run(Date.now(), this.instance),
        );
    } finally {
      this.#db.close();
    }
  }

  #read<T>(operation: () => T): T {
    return guarded(`cannot read the store ${this.#file}`, operation);
  }

  #write<T>(what: string, operation: () => T): T {
    return guarded(`${what} in the store ${this.#file}`, operation);
  }
}

function stripLauncher(record: UnresolvedRecord): ProcessRecord {
  const { launcher: _launcher, ...rest } = record;
  return rest;
}
