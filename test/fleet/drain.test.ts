// Three `salvo worker` processes (separate state directories) drain a queue of jobs with mixed
// exit codes: every job id has exactly one result, with the right code. SALVO_FLEET_JOBS sets
// the count (default 300; `npm run test:fleet-1500` runs 1,500).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { fleetStatus, type FleetResult } from '../../src/fleet/index.js';
import { RUNTIMES, tempDir } from '../helpers.js';
import { writeJobs } from '../reliability/cli-child.js';
import { fleetFixture, startWorker, submitChild, workerResults, zombiesOf } from './fleet-children.js';

const JOBS = Number(process.env.SALVO_FLEET_JOBS ?? 300);
const runtime = RUNTIMES[0] ?? 'runc';

describe(`three workers drain ${JOBS} jobs (${runtime})`, () => {
  const { redis, workers } = fleetFixture();

  it('gives every job id exactly one result with its own exit code, and the status shows the three workers', { timeout: 600_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-drain';
    const code = (i: number): number => (i * 7) % 5;
    const jobs = Array.from({ length: JOBS }, (_, i) => ({ id: `flt-d-${i}`, args: ['/bin/sh', '-c', `exit ${code(i)}`] }));
    const file = writeJobs(dir, jobs);
    for (const name of ['flt-n1', 'flt-n2', 'flt-n3']) {
      workers.push(startWorker(redis().url, queue, name, join(dir, name), runtime, ['--concurrency', '4']));
    }
    const status = await waitForWorkers(redis().url, queue, 3);
    assert.deepEqual(
      status.workers.map((w) => [w.name, w.info?.concurrency]),
      [
        ['flt-n1', 4],
        ['flt-n2', 4],
        ['flt-n3', 4],
      ],
    );

    const began = Date.now();
    const submit = submitChild(redis().url, queue, file, ['--wait', '--ndjson']);
    const { code: exitCode } = await submit.exited;
    const seconds = (Date.now() - began) / 1000;
    assert.equal(exitCode, 1, submit.stderr()); // some jobs exit non-zero, as `salvo batch` says
    const results = submit.lines.filter((l) => l.event === 'finished') as unknown as FleetResult[];
    assert.equal(results.length, JOBS);
    const byId = new Map(results.map((r) => [r.id, r]));
    assert.equal(byId.size, JOBS, 'one result per id');
    jobs.forEach((job, i) => {
      const result = byId.get(job.id);
      assert.ok(result, `a result for ${job.id}`);
      assert.equal(result.state, 'exited');
      assert.equal(result.exitCode, code(i), job.id);
      assert.equal(result.index, i);
      assert.equal(result.attempt, 1);
    });
    // Each job ran on exactly one node, and the nodes shared the work.
    const ran = workers.flatMap((w) => workerResults(w).map((r) => r.id));
    assert.equal(ran.length, JOBS);
    assert.equal(new Set(ran).size, JOBS);
    for (const w of workers) assert.ok(workerResults(w).length > 0, `${w.name} took jobs`);
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis().port } });
    assert.deepEqual(await q.getJobCounts('completed', 'failed', 'waiting', 'active'), { completed: JOBS, failed: 0, waiting: 0, active: 0 });
    await q.close();
    const summary = submit.lines.find((l) => l.event === 'summary') as unknown as { total: number; succeeded: number };
    assert.equal(summary.total, JOBS);
    assert.equal(summary.succeeded, jobs.filter((_, i) => code(i) === 0).length);
    for (const w of workers) assert.deepEqual(zombiesOf(w.child.pid!), [], `${w.name} has no zombie`);
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal((await w.exited).code, 0, w.stderr());
    process.stderr.write(`# fleet drain: ${JOBS} jobs through 3 workers in ${seconds.toFixed(1)} s\n`);
  });
});

async function waitForWorkers(url: string, queue: string, count: number): Promise<Awaited<ReturnType<typeof fleetStatus>>> {
  let status = await fleetStatus({ redis: url, queue });
  for (let i = 0; i < 600 && status.workers.filter((w) => w.info !== null).length < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = await fleetStatus({ redis: url, queue });
  }
  return status;
}
