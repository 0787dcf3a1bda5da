// Redis goes away for a few seconds mid-run (stopped, then started again on its append-only
// file): the workers reconnect, no job is lost or run twice, and `submit --wait` ends with every result.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FleetResult } from '../../src/fleet/index.js';
import { removeTempDirs, RUNTIMES, tempDir } from '../helpers.js';
import { writeJobs } from '../reliability/cli-child.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { startWorker, submitChild, until, workerResults, type WorkerChild } from './fleet-children.js';

const runtime = RUNTIMES[0] ?? 'runc';
const JOBS = 80;

describe(`Redis restarted mid-run (${runtime})`, () => {
  let redis: RedisServer;
  const workers: WorkerChild[] = [];
  before(async () => {
    redis = await startRedis({ persist: true });
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await redis.dispose();
    removeTempDirs();
  });

  it('loses no job and runs none twice, and submit --wait still ends with every result', { timeout: 300_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-restart';
    const jobs = Array.from({ length: JOBS }, (_, i) => ({ id: `flt-r-${i}`, args: ['/bin/sh', '-c', `sleep 0.2; exit ${i % 3}`] }));
    const file = writeJobs(dir, jobs);
    for (const name of ['flt-r1', 'flt-r2']) workers.push(startWorker(redis.url, queue, name, join(dir, name), runtime, ['--concurrency', '4']));
    const submit = submitChild(redis.url, queue, file, ['--wait', '--ndjson']);
    const done = (): number => workers.reduce((n, w) => n + workerResults(w).length, 0);
    await until(() => done() >= 10, 'ten jobs done');
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await redis.start();

    const { code } = await submit.exited;
    assert.equal(code, 1, submit.stderr());
    const results = submit.lines.filter((l) => l.event === 'finished') as unknown as FleetResult[];
    assert.equal(results.length, JOBS);
    assert.equal(new Set(results.map((r) => r.id)).size, JOBS);
    for (const r of results) assert.equal(r.exitCode, Number(r.id.split('-')[2]) % 3, r.id);
    const ran = workers.flatMap((w) => workerResults(w).map((r) => r.id));
    assert.equal(new Set(ran).size, JOBS, 'every job ran');
    assert.equal(ran.length, JOBS, 'none ran twice');
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal((await w.exited).code, 0, w.stderr());
  });
});
