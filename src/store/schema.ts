// The store's schema, as ordered migrations; PRAGMA user_version holds how many have run.
import type Database from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE processes (
     seq INTEGER PRIMARY KEY,
     container_id TEXT NOT NULL,
     exec_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('subscribed', 'running', 'exited', 'failed', 'lost')),
     pid INTEGER,
     pid_start_time INTEGER,
     runtime_exit_code INTEGER,
     error_code TEXT,
     error_message TEXT,
     exit_code INTEGER,
     signal TEXT,
     user_us INTEGER,
     system_us INTEGER,
     max_rss_kb INTEGER,
     subscribed_at REAL NOT NULL,
     started_at REAL,
     exited_at REAL,
     batch_id TEXT,
     labels TEXT,
     bundle TEXT,
     dir TEXT NOT NULL,
     launcher INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX processes_live_id ON processes (container_id, exec_id)
     WHERE state IN ('subscribed', 'running');
   CREATE INDEX processes_by_container ON processes (container_id, seq);
   CREATE INDEX processes_by_batch ON processes (batch_id, container_id) WHERE batch_id IS NOT NULL;
   CREATE TABLE orphans (
     pid INTEGER NOT NULL,
     exit_code INTEGER,
     signal TEXT,
     reaped_at REAL NOT NULL
   );
   CREATE TABLE launcher (
     instance INTEGER PRIMARY KEY,
     pid INTEGER NOT NULL,
     pid_start_time INTEGER,
     boot_id TEXT,
     runtime TEXT,
     runtime_root TEXT,
     opened_at REAL NOT NULL,
     closed_at REAL
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Runs the migrations this database lacks, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`the store has schema version ${current}, newer than this salvo knows (${SCHEMA_VERSION}): upgrade salvo`);
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
