// One worker SIGKILLed mid-run: every job still ends with exactly one result; the jobs it held run
// again on the others (attempt 2); the survivors leave nothing running and no zombie; the killed
// worker, started again on its state directory, ends its records `lost` and gc leaves no container.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Launcher } from '../../src/index.js';
import type { FleetResult } from '../../src/fleet/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, runtimeContainers, tempDir } from '../helpers.js';
import { writeJobs } from '../reliability/cli-child.js';
import { FAST_STALL, fleetFixture, type WorkerChild, startWorker, submitChild, until, workerResults, zombiesOf } from './fleet-children.js';

const runtime = RUNTIMES[0] ?? 'runc';
const JOBS = 60;

describe(`a worker lost mid-run (${runtime})`, () => {
  const { redis, workers } = fleetFixture();

  it('still gives every job one result, re-runs what the lost node held, and its records end lost', { timeout: 300_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-lost';
    const code = (i: number): number => i % 4;
    const jobs = Array.from({ length: JOBS }, (_, i) => ({ id: `flt-k-${i}`, args: ['/bin/sh', '-c', `sleep 1; exit ${code(i)}`] }));
    const file = writeJobs(dir, jobs);
    const start = (name: string): WorkerChild =>
      startWorker(redis().url, queue, name, join(dir, name), runtime, ['--concurrency', '4', ...FAST_STALL]);
    for (const name of ['flt-k1', 'flt-k2', 'flt-k3']) workers.push(start(name));
    const [, victim] = workers as [WorkerChild, WorkerChild, WorkerChild];
    const submit = submitChild(redis().url, queue, file, ['--wait', '--ndjson']);
    // Mid-run: the victim finished some jobs and holds running ones.
    await until(() => workerResults(victim).length >= 2, 'the victim to finish two jobs');
    const victimDb = join(victim.stateDir, 'salvo.db');
    await until(() => running(victimDb).length > 0, 'the victim to hold a running job');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const held = running(victimDb);
    assert.ok(held.length > 0);

    const { code: exitCode } = await submit.exited;
    assert.equal(exitCode, 1, submit.stderr());
    const results = submit.lines.filter((l) => l.event === 'finished') as unknown as FleetResult[];
    const byId = new Map(results.map((r) => [r.id, r]));
    assert.equal(results.length, JOBS);
    assert.equal(byId.size, JOBS, 'exactly one result per id');
    jobs.forEach((job, i) => {
      const result = byId.get(job.id)!;
      assert.equal(result.state, 'exited', job.id);
      assert.equal(result.exitCode, code(i), job.id);
    });
    for (const id of held) {
      const result = byId.get(id)!;
      assert.ok(result.attempt >= 2, `${id} ran again (attempt ${result.attempt})`);
      assert.notEqual(result.node, victim.name);
      assert.equal(result.containerId, `${id}.a${result.attempt}`);
    }
    // What the victim completed before it died stays its result; nothing it held came from it.
    const victimDone = new Set(workerResults(victim).map((r) => r.id));
    for (const id of held) assert.ok(!victimDone.has(id));

    // The survivors: nothing running, no zombie; then they stop cleanly.
    const survivors = workers.filter((w) => w !== victim);
    for (const w of survivors) assert.deepEqual(zombiesOf(w.child.pid!), [], `${w.name} has no zombie`);
    for (const w of survivors) w.child.kill('SIGTERM');
    for (const w of survivors) assert.equal((await w.exited).code, 0, w.stderr());
    for (const w of survivors) {
      const launcher = await Launcher.open({ stateDir: w.stateDir, runtime });
      assert.deepEqual(runtimeContainers(launcher), [], `${w.name} left no container`);
      assert.deepEqual(
        launcher.list().filter((r) => r.state === 'running' || r.state === 'subscribed'),
        [],
      );
      await launcher.close();
    }

    // The victim again, on its state directory: its held records end lost; gc leaves no container.
    const again = start(victim.name);
    workers.push(again);
    await until(() => again.stderr().includes('salvo worker flt-k2:'), 'the restarted worker to be up', 60_000);
    again.child.kill('SIGTERM');
    assert.equal((await again.exited).code, 0, again.stderr());
    const launcher = await Launcher.open({ stateDir: victim.stateDir, runtime });
    try {
      for (const id of held) {
        const record = launcher.get(id)!;
        assert.equal(record.state, 'lost', `${id} ended lost`);
        assert.equal(record.exitCode, 255);
      }
      await launcher.gc();
      assert.deepEqual(runtimeContainers(launcher), []);
    } finally {
      await launcher.close();
    }
  });
});

/** Container ids the store holds as running or subscribed (read-only, beside a live launcher). */
function running(dbFile: string): string[] {
  let store: Store | null;
  try {
    store = Store.openReadOnly(dbFile);
  } catch {
    return []; // not created yet
  }
  if (store === null) return [];
  try {
    return store
      .list()
      .filter((r) => r.state === 'running' || r.state === 'subscribed')
      .map((r) => r.id);
  } finally {
    store.close();
  }
}
