// A failed start's record when the store refuses the write (a full disk): never thrown at the
// caller, retried until the store takes it, and a record already final is left alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { FailureWriter } from '../../src/launcher/failure-writer.js';
import { Store, type FailureRow } from '../../src/store/store.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('FailureWriter', () => {
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'salvo-failures-'));
    store = Store.open(join(dir, 'salvo.db'), { pid: process.pid, pidStartTime: null, bootId: null });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function subscribed(id: string): number {
    return store.subscribe({ id, execId: 'init', dir: join(dir, id), bundle: '/b', batchId: null, labels: null, at: 1 });
  }

  it('does not throw when the store refuses, and marks the record failed once the store takes it again', async () => {
    let full = true;
    let attempts = 0;
    const markFailed = store.markFailed.bind(store);
    store.markFailed = (row: FailureRow): void => {
      attempts++;
      if (full) throw new SalvoError('ERR_STORE_FULL', 'database or disk is full');
      markFailed(row);
    };
    const writer = new FailureWriter(store, silent);
    const seq = subscribed('f1');
    writer.write({ seq, runtimeExitCode: 1, errorCode: 'ERR_STATE_DIR', errorMessage: 'no space', at: 5 });
    assert.equal(writer.unwritten, 1);
    while (attempts < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(store.get('f1')?.state, 'subscribed');
    full = false;
    while (writer.unwritten > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const record = store.get('f1');
    assert.equal(record?.state, 'failed');
    assert.equal(record?.errorCode, 'ERR_STATE_DIR');
    writer.close();
  });

  it('leaves a record that is already final as it is', () => {
    const writer = new FailureWriter(store, silent);
    const seq = subscribed('f2');
    store.recordExits([{ seq, state: 'exited', exitCode: 0, signal: null, userUs: null, systemUs: null, maxRssKb: null, at: 3 }]);
    writer.write({ seq, runtimeExitCode: 1, errorCode: 'ERR_RUNTIME_FAILED', errorMessage: 'late', at: 5 });
    assert.equal(store.get('f2')?.state, 'exited');
    assert.equal(writer.unwritten, 0);
  });
});
