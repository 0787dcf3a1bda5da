// SIGTERM to a worker: it takes no more jobs, lets a running job finish within the shutdown grace,
// then stops the ones still running and hands them back; another worker runs them (attempt 2).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FleetResult } from '../../src/fleet/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, tempDir } from '../helpers.js';
import { writeJobs } from '../reliability/cli-child.js';
import { fleetFixture, startWorker, submitChild, workerResults } from './fleet-children.js';

const runtime = RUNTIMES[0] ?? 'runc';

describe(`a worker stopped by SIGTERM (${runtime})`, () => {
  const { redis, workers } = fleetFixture();

  it('lets a short job finish, hands a long one back after the grace, and another worker runs it', { timeout: 120_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-term';
    const file = writeJobs(dir, [
      { id: 'flt-t-short', args: ['/bin/sh', '-c', 'sleep 1; exit 4'] },
      { id: 'flt-t-long', args: ['/bin/sh', '-c', 'sleep 6; exit 5'] },
    ]);
    const first = startWorker(redis().url, queue, 'flt-t1', join(dir, 't1'), runtime, ['--shutdown-grace', '2s', '--grace', '1s']);
    workers.push(first);
    const submit = submitChild(redis().url, queue, file, ['--wait', '--ndjson']);
    const stateOf = async (): Promise<string[]> => {
      let store: Store | null = null;
      try {
        store = Store.openReadOnly(join(first.stateDir, 'salvo.db'));
        return (
          store
            ?.list()
            .filter((r) => r.state === 'running')
            .map((r) => r.id) ?? []
        );
      } catch {
        return []; // not created yet
      } finally {
        store?.close();
      }
    };
    let running: string[] = [];
    for (let i = 0; i < 600 && running.length < 2; i++) {
      running = await stateOf();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(running.sort(), ['flt-t-long', 'flt-t-short']);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.stderr());
    assert.deepEqual(
      workerResults(first).map((r) => [r.id, r.exitCode]),
      [['flt-t-short', 4]],
      'the short job finished within the grace',
    );

    const second = startWorker(redis().url, queue, 'flt-t2', join(dir, 't2'), runtime);
    workers.push(second);
    assert.equal((await submit.exited).code, 1, submit.stderr());
    const results = submit.lines.filter((l) => l.event === 'finished') as unknown as FleetResult[];
    const long = results.find((r) => r.id === 'flt-t-long')!;
    assert.equal(results.length, 2);
    assert.deepEqual([long.node, long.attempt, long.exitCode, long.containerId], ['flt-t2', 2, 5, 'flt-t-long.a2']);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.stderr());
  });
});
