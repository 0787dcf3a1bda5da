// `salvo submit`: a job id added twice is one job, run once; a bad line is refused with exit 2
// and its line number before anything is added; the API's submit and results agree.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { results, runWorker, submit, type FleetResult } from '../../src/fleet/index.js';
import { RUNTIMES, tempDir } from '../helpers.js';
import { MAIN, writeJobs } from '../reliability/cli-child.js';
import { fleetFixture, startWorker, submitChild, until, workerResults } from './fleet-children.js';

const runtime = RUNTIMES[0] ?? 'runc';
const execFileAsync = promisify(execFile);

describe(`salvo submit (${runtime})`, () => {
  const { redis, workers } = fleetFixture();

  it('runs a job added twice under one id once, and a second submit --wait reports its one result', { timeout: 120_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const queue = 'flt-dup';
    const file = writeJobs(dir, [
      { id: 'flt-dup-1', args: ['/bin/sh', '-c', 'exit 3'] },
      { id: 'flt-dup-1', args: ['/bin/sh', '-c', 'exit 4'] },
      { id: 'flt-dup-2', args: ['/bin/true'] },
    ]);
    const worker = startWorker(redis().url, queue, 'flt-d1', join(dir, 'state'), runtime);
    workers.push(worker);
    const first = submitChild(redis().url, queue, file, ['--wait', '--ndjson']);
    assert.equal((await first.exited).code, 1, first.stderr());
    assert.equal(first.lines.filter((l) => l.event === 'finished').length, 2);
    const again = await execFileAsync(process.execPath, [MAIN, 'submit', file, '--redis', redis().url, '--queue', queue, '--wait', '--json']).then(
      () => assert.fail('exit 1 expected'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /submitted 2 jobs .*\(2 already there, not added again\)/);
    const document = JSON.parse(again.stdout) as { jobs: FleetResult[]; summary: { total: number } };
    assert.equal(document.summary.total, 2);
    assert.deepEqual(
      document.jobs.map((j) => [j.id, j.exitCode, j.node, j.attempt]),
      [
        ['flt-dup-1', 3, 'flt-d1', 1],
        ['flt-dup-2', 0, 'flt-d1', 1],
      ],
    );
    await until(() => workerResults(worker).length >= 2, 'the worker output');
    assert.deepEqual(
      workerResults(worker)
        .map((r) => r.id)
        .sort(),
      ['flt-dup-1', 'flt-dup-2'],
      'each ran once',
    );
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis().port } });
    assert.equal((await q.getJobCounts('completed')).completed, 2);
    await q.close();
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.stderr());
  });

  it('refuses a file with a bad line with exit 2 and the line number, adding nothing', { timeout: 60_000 }, async () => {
    const dir = tempDir('salvo-fleet-');
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      ['{"id":"flt-b-1","args":["/bin/true"]}', '', '{"id":"flt-b-2","args":"not an array"}', '{"id":"flt-b-3","args":["/bin/true"]}'].join('\n'),
    );
    const bad = submitChild(redis().url, 'flt-bad', file, ['--wait']);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr(), /line 3: /);
    const q = new Queue('flt-bad', { connection: { host: '127.0.0.1', port: redis().port } });
    assert.deepEqual(await q.getJobCounts('waiting', 'completed'), { waiting: 0, completed: 0 });
    await q.close();
  });

  it('submits, runs and follows jobs through the API (runWorker with an open launcher, submit, results)', { timeout: 120_000 }, async () => {
    const { Launcher } = await import('../../src/index.js');
    const launcher = await Launcher.open({ stateDir: join(tempDir('salvo-fleet-'), 'state'), runtime });
    const handle = await runWorker({ redis: redis().url, queue: 'flt-api', launcher, name: 'flt-api-node', concurrency: 2 });
    try {
      const { ids } = await submit(
        [
          { id: 'flt-api-1', args: ['/bin/sh', '-c', 'echo hi; exit 5'] },
          { id: 'flt-api-2', args: ['/bin/sh', '-c', 'sleep 30'], timeoutMs: 300 },
          { id: 'flt-api-3', args: ['/nonexistent'] },
        ],
        { redis: redis().url, queue: 'flt-api' },
      );
      const got = new Map<string, FleetResult>();
      for await (const result of results(ids, { redis: redis().url, queue: 'flt-api' })) got.set(result.id, result);
      assert.equal(got.size, 3);
      assert.equal(got.get('flt-api-1')!.exitCode, 5);
      assert.equal(got.get('flt-api-1')!.node, 'flt-api-node');
      assert.equal(got.get('flt-api-2')!.state, 'timedOut'); // the job's own failure is a result
      assert.equal(got.get('flt-api-3')!.state, 'failed');
      assert.equal(got.get('flt-api-3')!.error?.code, 'ERR_RUNTIME_FAILED');
    } finally {
      await handle.close({ graceMs: 5_000 });
      await launcher.close();
    }
  });
});
