// SIGTERM to a worker whose Redis is gone: it still exits within a bounded time (bullmq alone
// waits for Redis forever), its running job is stopped after the shutdown grace and its exit is in
// the local store, and it exits 3 naming the job whose end Redis never heard of.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, tempDir } from '../helpers.js';
import { writeJobs } from '../reliability/cli-child.js';
import { fleetFixture, startWorker, submitChild, until } from './fleet-children.js';

const runtime = RUNTIMES[0] ?? 'runc';

function recordsOf(stateDir: string): { id: string; state: string; signal: string | null }[] {
  let store: Store | null = null;
  try {
    store = Store.openReadOnly(join(stateDir, 'salvo.db'));
    return (store?.list() ?? []).map((r) => ({ id: r.id, state: r.state, signal: r.signal }));
  } catch {
    return []; // not created yet
  } finally {
    store?.close();
  }
}

describe(`a worker stopped by SIGTERM after its Redis is gone (${runtime})`, () => {
  const { redis, workers } = fleetFixture();

  it('exits within 20 s, with the running job stopped and its exit recorded locally', { timeout: 120_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-gone';
    const file = writeJobs(dir, [{ id: 'flt-gone-long', args: ['/bin/sh', '-c', 'sleep 600'] }]);
    const worker = startWorker(redis().url, queue, 'flt-gone1', join(dir, 'w'), runtime, ['--shutdown-grace', '1s', '--grace', '1s']);
    workers.push(worker);
    assert.equal((await submitChild(redis().url, queue, file, []).exited).code, 0);
    await until(() => recordsOf(worker.stateDir).some((r) => r.id === 'flt-gone-long' && r.state === 'running'), 'the job running');
    await redis().stop();

    worker.child.kill('SIGTERM');
    const bound = new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 20_000).unref());
    const outcome = await Promise.race([worker.exited, bound]);
    assert.notEqual(outcome, 'alive', `the worker is still running 20 s after SIGTERM:\n${worker.stderr()}`);
    assert.deepEqual(outcome, { code: 3, signal: null }, worker.stderr());
    assert.match(worker.stderr(), /did not answer while the worker closed: flt-gone-long ended here/);
    const record = recordsOf(worker.stateDir).find((r) => r.id === 'flt-gone-long');
    assert.equal(record?.state, 'exited', 'the stopped job has its exit in the local store');
    assert.equal(record?.signal, 'SIGTERM');
  });
});
