// The SQLite store: records from subscribed to their end, one live row per id, recovery input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SalvoError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { Store, type ExitRow, type Subscription } from '../../src/store/store.js';

const LAUNCHER = { pid: process.pid, pidStartTime: 12345, bootId: 'boot-1' };

function subscription(id: string, extra: Partial<Subscription> = {}): Subscription {
  return { id, execId: 'init', dir: `/state/containers/${id}/init`, bundle: '/bundles/b', batchId: null, labels: null, at: 1000, ...extra };
}

function exitRow(seq: number, extra: Partial<ExitRow> = {}): ExitRow {
  return { seq, state: 'exited', exitCode: 0, signal: null, userUs: 1500, systemUs: 500, maxRssKb: 2048, at: 3000, ...extra };
}

describe('Store', () => {
  let dir: string;
  let file: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'salvo-store-'));
    file = join(dir, 'salvo.db');
    store = Store.open(file, LAUNCHER);
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a record from subscribe through markRunning to its exit', () => {
    const seq = store.subscribe(subscription('c1', { batchId: 'b1', labels: { team: 'x' } }));
    assert.equal(store.get('c1')?.state, 'subscribed');
    store.markRunning(seq, 4242, 777, 2000);
    assert.equal(store.get('c1')?.state, 'running');
    assert.equal(store.recordExits([exitRow(seq, { exitCode: 137, signal: 'SIGKILL' })]), 1);
    const expected = {
      seq,
      id: 'c1',
      execId: 'init',
      state: 'exited',
      pid: 4242,
      pidStartTime: 777,
      runtimeExitCode: null,
      errorCode: null,
      errorMessage: null,
      exitCode: 137,
      signal: 'SIGKILL',
      rusage: { userMs: 1.5, systemMs: 0.5, maxRssKb: 2048 },
      subscribedAt: 1000,
      startedAt: 2000,
      exitedAt: 3000,
      batchId: 'b1',
      labels: { team: 'x' },
      bundle: '/bundles/b',
      dir: '/state/containers/c1/init',
    };
    assert.deepEqual(store.get('c1'), expected);
    assert.deepEqual(store.list(), [expected]);
  });

  it('writes the running mark with the exit when the exit came first, and keeps a mark already written', () => {
    const quick = store.subscribe(subscription('c-quick'));
    const marked = store.subscribe(subscription('c-marked'));
    store.markRunning(marked, 4243, 778, 2000);
    const started = { pid: 9999, pidStartTime: 1, at: 1 };
    assert.equal(store.recordExits([exitRow(quick, { started: { pid: 4244, pidStartTime: 779, at: 2100 } }), exitRow(marked, { started })]), 2);
    const q = store.get('c-quick');
    assert.deepEqual([q?.state, q?.pid, q?.pidStartTime, q?.startedAt], ['exited', 4244, 779, 2100]);
    const m = store.get('c-marked');
    assert.deepEqual([m?.state, m?.pid, m?.pidStartTime, m?.startedAt], ['exited', 4243, 778, 2000]);
  });

  it('records an exit only once: a second recordExits for the same row changes nothing', () => {
    const seq = store.subscribe(subscription('c1'));
    store.markRunning(seq, 10, 1, 2000);
    assert.equal(store.recordExits([exitRow(seq, { exitCode: 3 })]), 1);
    assert.equal(store.recordExits([exitRow(seq, { exitCode: 99, state: 'lost' })]), 0);
    assert.equal(store.get('c1')?.exitCode, 3);
    assert.equal(store.get('c1')?.state, 'exited');
  });

  it('stores an exit without rusage as rusage null and labels null as {}', () => {
    const seq = store.subscribe(subscription('c1'));
    store.recordExits([exitRow(seq, { state: 'lost', exitCode: 255, userUs: null, systemUs: null, maxRssKb: null })]);
    const record = store.get('c1');
    assert.equal(record?.state, 'lost');
    assert.equal(record?.rusage, null);
    assert.deepEqual(record?.labels, {});
  });

  it('refuses a second live subscription of an id with ERR_ID_IN_USE, and accepts it once the first exited', () => {
    const first = store.subscribe(subscription('c1'));
    assert.throws(
      () => store.subscribe(subscription('c1')),
      (error: unknown) => {
        assert.ok(error instanceof SalvoError);
        assert.equal(error.code, 'ERR_ID_IN_USE');
        assert.match(error.message, /container c1/);
        return true;
      },
    );
    store.markRunning(first, 10, 1, 2000);
    assert.throws(() => store.subscribe(subscription('c1')), { code: 'ERR_ID_IN_USE' });
    store.recordExits([exitRow(first)]);
    const second = store.subscribe(subscription('c1', { at: 5000 }));
    assert.ok(second > first);
    assert.equal(store.get('c1')?.seq, second, 'get returns the newest record');
    assert.equal(store.list({ id: 'c1' }).length, 2);
  });

  it('lets an exec id live next to the init of the same container', () => {
    store.subscribe(subscription('c1'));
    store.subscribe(subscription('c1', { execId: 'e1' }));
    assert.throws(() => store.subscribe(subscription('c1', { execId: 'e1' })), /exec e1 of container c1/);
    assert.equal(store.get('c1', 'e1')?.execId, 'e1');
    assert.equal(store.get('c1', 'e2'), undefined);
  });

  it('records 1,000 exits in one call', () => {
    const seqs = Array.from({ length: 1000 }, (_, i) => {
      const seq = store.subscribe(subscription(`c${i}`, { batchId: 'big' }));
      store.markRunning(seq, 10_000 + i, i, 2000);
      return seq;
    });
    assert.equal(store.recordExits(seqs.map((seq, i) => exitRow(seq, { exitCode: i % 256 }))), 1000);
    const records = store.list({ batchId: 'big' });
    assert.equal(records.length, 1000);
    records.forEach((record, i) => {
      assert.equal(record.state, 'exited');
      assert.equal(record.exitCode, i % 256);
    });
    assert.equal(store.recordExits([]), 0);
  });

  it('marks a failed start with the runtime exit code and the error, and no exit code', () => {
    const seq = store.subscribe(subscription('c1'));
    store.markFailed({ seq, runtimeExitCode: 1, errorCode: 'ERR_RUNTIME_FAILED', errorMessage: 'exec failed', at: 2500 });
    const record = store.get('c1');
    assert.equal(record?.state, 'failed');
    assert.equal(record?.runtimeExitCode, 1);
    assert.equal(record?.errorCode, 'ERR_RUNTIME_FAILED');
    assert.equal(record?.errorMessage, 'exec failed');
    assert.equal(record?.exitedAt, 2500);
    assert.equal(record?.exitCode, null);
    assert.equal(store.recordExits([exitRow(seq)]), 0, 'a failed record takes no exit');
  });

  it('filters list by states, batch id, id and limit, in subscription order', () => {
    const a = store.subscribe(subscription('a', { batchId: 'b1' }));
    const b = store.subscribe(subscription('b', { batchId: 'b1' }));
    store.subscribe(subscription('c', { batchId: 'b2' }));
    store.markRunning(b, 20, 1, 2000);
    store.recordExits([exitRow(a)]);
    const ids = (records: { id: string }[]) => records.map((r) => r.id);
    assert.deepEqual(ids(store.list()), ['a', 'b', 'c']);
    assert.deepEqual(ids(store.list({ states: ['running', 'subscribed'] })), ['b', 'c']);
    assert.deepEqual(ids(store.list({ states: ['exited'] })), ['a']);
    assert.deepEqual(ids(store.list({ states: [] })), ['a', 'b', 'c']);
    assert.deepEqual(ids(store.list({ batchId: 'b1' })), ['a', 'b']);
    assert.deepEqual(ids(store.list({ batchId: 'b1', states: ['running'] })), ['b']);
    assert.deepEqual(ids(store.list({ id: 'c' })), ['c']);
    assert.deepEqual(ids(store.list({ limit: 2 })), ['a', 'b']);
    assert.deepEqual(ids(store.list({ limit: 0 })), []);
  });

  it('treats an infinite list limit as no limit', () => {
    store.subscribe(subscription('a'));
    assert.equal(store.list({ limit: Number.POSITIVE_INFINITY }).length, 1);
  });

  it('returns from unresolved() only the live rows of other launcher instances', () => {
    const running = store.subscribe(subscription('old-running'));
    store.markRunning(running, 30, 3, 2000);
    store.subscribe(subscription('old-subscribed'));
    const done = store.subscribe(subscription('old-done'));
    store.recordExits([exitRow(done)]);
    assert.deepEqual(store.unresolved(), [], 'its own rows are not unresolved');
    const firstInstance = store.instance;
    store.close();

    store = Store.open(file, { ...LAUNCHER, pidStartTime: 99999 });
    assert.notEqual(store.instance, firstInstance);
    store.subscribe(subscription('new-one'));
    const unresolved = store.unresolved();
    assert.deepEqual(
      unresolved.map((r) => [r.id, r.state, r.launcher]),
      [
        ['old-running', 'running', firstInstance],
        ['old-subscribed', 'subscribed', firstInstance],
      ],
    );
    assert.equal(unresolved[0]?.pid, 30);
    assert.equal(unresolved[0]?.pidStartTime, 3);
  });

  it('prunes finished records that ended before a time, and keeps live ones', () => {
    const old = store.subscribe(subscription('old'));
    const recent = store.subscribe(subscription('recent'));
    const failed = store.subscribe(subscription('failed'));
    store.subscribe(subscription('live'));
    store.recordExits([exitRow(old, { at: 100 }), exitRow(recent, { at: 900 })]);
    store.markFailed({ seq: failed, runtimeExitCode: 1, errorCode: 'ERR_RUNTIME_FAILED', errorMessage: 'x', at: 200 });
    assert.equal(store.prune(500), 2);
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['recent', 'live'],
    );
    assert.equal(store.prune(Number.MAX_SAFE_INTEGER), 1);
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['live'],
    );
  });

  it('prunes a record that ended in the very millisecond of the cutoff, as gc removes its directory', () => {
    // gc right after an exit often runs in the exit's millisecond: the record must go with its directory.
    const seq = store.subscribe(subscription('same-ms'));
    store.recordExits([exitRow(seq, { at: 700 })]);
    assert.equal(store.prune(699), 0);
    assert.equal(store.prune(700), 1);
    assert.deepEqual(store.list(), []);
  });

  it('prunes only the given ids when ids are passed', () => {
    const a = store.subscribe(subscription('a'));
    const b = store.subscribe(subscription('b'));
    store.recordExits([exitRow(a), exitRow(b)]);
    assert.equal(store.prune(Number.MAX_SAFE_INTEGER, ['a', 'missing']), 1);
    assert.deepEqual(
      store.list().map((r) => r.id),
      ['b'],
    );
  });

  it('records orphans and lists them in order', () => {
    store.recordOrphans([
      { pid: 5, exitCode: 0, signal: null, at: 1 },
      { pid: 6, exitCode: 137, signal: 'SIGKILL', at: 2 },
    ]);
    assert.deepEqual(store.orphans(), [
      { pid: 5, exitCode: 0, signal: null, at: 1 },
      { pid: 6, exitCode: 137, signal: 'SIGKILL', at: 2 },
    ]);
  });

  it('passes its integrity check', () => {
    store.subscribe(subscription('c1'));
    assert.equal(store.integrityCheck(), 'ok');
  });

  it('writes the schema version into user_version', () => {
    store.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.ok(SCHEMA_VERSION >= 1);
    } finally {
      db.close();
    }
  });

  it('opens an existing database again and keeps its records', () => {
    store.subscribe(subscription('kept'));
    store.close();
    store = Store.open(file, LAUNCHER);
    assert.equal(store.get('kept')?.state, 'subscribed');
  });

  it('refuses a database with a newer schema version with ERR_STORE', () => {
    const newer = join(dir, 'newer.db');
    const db = new Database(newer);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => Store.open(newer, LAUNCHER),
      (error: unknown) => {
        assert.ok(error instanceof SalvoError);
        assert.equal(error.code, 'ERR_STORE');
        assert.match(error.message, /newer than this salvo knows/);
        return true;
      },
    );
  });

  it('refuses a path it cannot create with ERR_STORE', () => {
    assert.throws(() => Store.open(join(dir, 'no', 'such', 'dir', 'x.db'), LAUNCHER), { code: 'ERR_STORE' });
  });
});
