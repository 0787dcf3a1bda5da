// launcher.batch end to end: results per job as they finish, backpressure, timeouts, aborts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { BatchEvent, JobResult, JobSpec, Launcher } from '../../src/index.js';
import { RUNTIMES, openLauncher, removeTempDirs, runtimeContainers, sleep } from '../helpers.js';

after(removeTempDirs);

async function collect(results: AsyncIterable<JobResult>): Promise<JobResult[]> {
  const all: JobResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

for (const runtime of RUNTIMES) {
  describe(`batch with ${runtime}`, { timeout: 600_000 }, () => {
    let launcher: Launcher;
    before(async () => {
      launcher = await openLauncher(runtime);
    });
    after(async () => {
      await launcher.close();
    });

    it('yields one result per job with its own state, and the store agrees', async () => {
      const jobs: JobSpec[] = [
        ...Array.from({ length: 40 }, (_, i) => ({ id: `mixed-${i}`, args: ['/bin/sh', '-c', `echo job ${i}; exit ${i % 4}`] })),
        { id: 'mixed-missing', args: ['/no/such/binary'] },
        { id: 'mixed-slow', args: ['/bin/sleep', '30'], timeoutMs: 300 },
        { id: '../bad', args: ['/bin/true'] },
      ];
      const results = await collect(launcher.batch(jobs, { concurrency: 4, batchId: 'mixed' }));
      assert.equal(results.length, jobs.length);
      const byId = new Map(results.map((r) => [r.id, r]));
      for (let i = 0; i < 40; i++) {
        const r = byId.get(`mixed-${i}`);
        assert.equal(r?.state, 'exited');
        assert.equal(r?.exitCode, i % 4);
        assert.equal(readFileSync(r?.stdoutPath ?? '', 'utf8'), `job ${i}\n`);
        assert.equal(launcher.get(`mixed-${i}`)?.exitCode, i % 4);
      }
      assert.equal(byId.get('mixed-missing')?.state, 'failed');
      assert.equal(byId.get('mixed-missing')?.error?.code, 'ERR_RUNTIME_FAILED');
      assert.equal(byId.get('mixed-missing')?.exitCode, null);
      const slow = byId.get('mixed-slow');
      assert.equal(slow?.state, 'timedOut');
      assert.equal(slow?.signal, 'SIGTERM');
      assert.equal(slow?.exitCode, 143);
      assert.equal(launcher.get('mixed-slow')?.exitCode, 143);
      assert.equal(byId.get('../bad')?.error?.code, 'ERR_INVALID_ID');
      assert.deepEqual(
        [...new Set(results.map((r) => r.index))].sort((a, b) => a - b),
        jobs.map((_, i) => i),
      );
    });

    it('has deleted every finished job from the runtime once deletesSettled() resolves after the batch', async () => {
      const jobs: JobSpec[] = Array.from({ length: 24 }, (_, i) => ({ id: `settle-${i}`, args: ['/bin/true'], stdio: 'null' }));
      const results = await collect(launcher.batch(jobs, { concurrency: 4 }));
      assert.deepEqual(
        results.filter((r) => r.exitCode !== 0),
        [],
      );
      await launcher.deletesSettled();
      assert.deepEqual(
        runtimeContainers(launcher).filter((id) => id.startsWith('settle-')),
        [],
      );
    });

    it('kills a job that ignores SIGTERM after the grace period', async () => {
      const jobs = [{ id: 'stubborn', args: ['/bin/sh', '-c', "trap '' TERM; sleep 30"], timeoutMs: 200 }];
      const [result] = await collect(launcher.batch(jobs, { graceMs: 300 }));
      assert.equal(result?.state, 'timedOut');
      assert.equal(result?.signal, 'SIGKILL');
      assert.equal(result?.exitCode, 137);
    });

    it('pulls from its input only as fast as it launches', async () => {
      let pulled = 0;
      let settledStarts = 0;
      let maxAhead = 0;
      function* jobs(): Generator<JobSpec> {
        for (let i = 0; i < 30; i++) {
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - settledStarts);
          yield { args: ['/bin/true'] };
        }
      }
      const results = await collect(
        launcher.batch(jobs(), {
          concurrency: 2,
          onEvent: (event) => {
            if (event.type === 'started' || (event.type === 'finished' && event.result?.startedAt === null)) settledStarts++;
          },
        }),
      );
      assert.equal(results.length, 30);
      assert.ok(maxAhead <= 3, `the input ran ${maxAhead} jobs ahead of the starts (concurrency 2)`);
    });

    it('announces each job as starting before the runtime runs, then started or its result', async () => {
      const seen: string[] = [];
      const jobs = [
        { id: 'flg-ev-ok', args: ['/bin/true'] },
        { id: 'flg-ev-bad', args: ['/flg/no/such'] },
      ];
      await collect(launcher.batch(jobs, { onEvent: (event) => seen.push(`${event.type} ${event.id}`) }));
      for (const id of ['flg-ev-ok', 'flg-ev-bad']) {
        const mine = seen.filter((line) => line.endsWith(` ${id}`)).map((line) => line.split(' ')[0]);
        assert.deepEqual(mine, id === 'flg-ev-ok' ? ['starting', 'started', 'finished'] : ['starting', 'finished'], id);
      }
    });

    it('streams results while a slow generator is still producing', async () => {
      let produced = 0;
      let firstResult: () => void = () => undefined;
      const firstResultCame = new Promise<void>((resolve) => (firstResult = resolve));
      // The generator holds back its last job until a result came (or a minute passed, and the assertion fails).
      async function* slowJobs(): AsyncGenerator<JobSpec> {
        for (let i = 0; i < 8; i++) {
          if (i === 7) await Promise.race([firstResultCame, sleep(60_000)]);
          produced++;
          yield { id: `slow-gen-${i}`, args: ['/bin/true'] };
        }
      }
      const producedAtResult: number[] = [];
      for await (const _result of launcher.batch(slowJobs())) {
        producedAtResult.push(produced);
        firstResult();
      }
      assert.equal(producedAtResult.length, 8);
      assert.ok((producedAtResult[0] ?? 8) < 8, 'the first result came before the input was exhausted');
    });

    it('refuses a duplicate id in one batch with ERR_DUPLICATE_ID and runs the first', async () => {
      const results = await collect(
        launcher.batch([
          { id: 'dup', args: ['/bin/true'] },
          { id: 'dup', args: ['/bin/true'] },
        ]),
      );
      const states = results.map((r) => r.state).sort();
      assert.deepEqual(states, ['exited', 'failed']);
      assert.equal(results.find((r) => r.state === 'failed')?.error?.code, 'ERR_DUPLICATE_ID');
    });

    it('cancels on abort: running jobs are stopped and deleted, queued ones canceled', async () => {
      const controller = new AbortController();
      const jobs = Array.from({ length: 12 }, (_, i) => ({ id: `abort-${i}`, args: ['/bin/sleep', '30'] }));
      const seen: JobResult[] = [];
      // Aborted once two jobs run, however long their starts took.
      let started = 0;
      const onEvent = (event: BatchEvent): void => {
        if (event.type === 'started' && ++started === 2) controller.abort();
      };
      for await (const result of launcher.batch(jobs, {
        concurrency: 2,
        maxRunning: 4,
        signal: controller.signal,
        graceMs: 500,
        onAbort: 'drain',
        onEvent,
      })) {
        seen.push(result);
      }
      assert.equal(seen.length, 12, 'a result for every job (drain)');
      assert.ok(seen.every((r) => r.state === 'canceled'));
      const ran = seen.filter((r) => r.pid !== null);
      assert.ok(ran.length >= 2, 'the jobs running when the batch was aborted were stopped');
      for (const r of ran) assert.ok(r.signal === 'SIGTERM' || r.signal === 'SIGKILL', `${r.id}: ${r.signal}`);
      for (const r of ran) assert.notEqual(launcher.get(r.id)?.state, 'running');
      for (let i = 0; i < 50 && runtimeContainers(launcher).some((id) => id.startsWith('abort-')); i++) await sleep(100);
      assert.deepEqual(
        runtimeContainers(launcher).filter((id) => id.startsWith('abort-')),
        [],
      );
    });

    it('stops what runs when the consumer leaves the loop early', async () => {
      const jobs = [
        { id: 'early-0', args: ['/bin/true'] },
        ...Array.from({ length: 3 }, (_, i) => ({ id: `early-long-${i}`, args: ['/bin/sleep', '30'] })),
      ];
      for await (const result of launcher.batch(jobs, { graceMs: 300 })) {
        assert.equal(result.id, 'early-0');
        break;
      }
      for (let i = 0; i < 3; i++) assert.notEqual(launcher.get(`early-long-${i}`)?.state, 'running');
    });
  });
}
