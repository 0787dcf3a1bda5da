// Shutting down: launcher.close() and SIGTERM to `salvo batch` stop new work, settle the starts in
// flight, and kill, wait for, or leave the running containers as asked; every record is final
// afterwards (except with 'leave', whose containers the next launcher adopts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Launcher, SalvoError } from '../../src/index.js';
import type { JobResult, Proc } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, openLauncher, removeTempDirs, runtimeContainers, tempDir, zombieChildren } from '../helpers.js';
import { salvoChild, startedPid, stopServing, writeJobs } from './cli-child.js';
import { isRunning, processesMentioning, waitFor } from './processes.js';

after(removeTempDirs);

// Ignores SIGTERM for good: each sleep that SIGTERM kills is replaced by the next.
const IGNORES_TERM = ['/bin/sh', '-c', "trap '' TERM; while :; do sleep 0.1; done"];

for (const runtime of RUNTIMES) {
  describe(`shutdown (${runtime})`, { timeout: 300_000 }, () => {
    it("close({ containers: 'kill' }) sends SIGTERM, then SIGKILL after the grace period, and leaves nothing running", async () => {
      const launcher = await openLauncher(runtime);
      const procs = [
        await launcher.start({ id: 'polite', args: ['/bin/sleep', '60'] }),
        await launcher.start({ id: 'stubborn', args: IGNORES_TERM }),
      ];
      const began = Date.now();
      await launcher.close({ containers: 'kill', graceMs: 1000 });
      const tookMs = Date.now() - began;
      assert.ok(tookMs >= 900 && tookMs < 15_000, `close took ${tookMs} ms`);
      const [polite, stubborn] = await Promise.all(procs.map((p) => p.exited));
      assert.deepEqual([polite?.signal, polite?.exitCode], ['SIGTERM', 143]);
      assert.deepEqual([stubborn?.signal, stubborn?.exitCode], ['SIGKILL', 137]);
      const store = Store.openReadOnly(join(launcher.stateDir, 'salvo.db'));
      assert.deepEqual(store?.list({ states: ['subscribed', 'running'] }), [], 'every record is final');
      store?.close();
      for (const proc of procs) assert.ok(!isRunning(proc.pid));
      assert.deepEqual(runtimeContainers(launcher), []);
      assert.deepEqual(zombieChildren(), []);
    });

    it("close({ containers: 'wait' }) lets running containers finish on their own", async () => {
      const launcher = await openLauncher(runtime);
      const procs = await Promise.all(['wait-1', 'wait-2'].map((id) => launcher.start({ id, args: ['/bin/sh', '-c', 'sleep 1; exit 3'] })));
      let exited = 0;
      for (const proc of procs) void proc.exited.then(() => exited++);
      await launcher.close({ containers: 'wait' });
      assert.equal(exited, 2, 'close waited for them');
      for (const exit of await Promise.all(procs.map((p) => p.exited))) assert.deepEqual([exit.exitCode, exit.signal], [3, null]);
      assert.deepEqual(runtimeContainers(launcher), []);
    });

    it("close({ containers: 'leave' }) leaves them running for the next launcher, which adopts and can kill them", async () => {
      const stateDir = join(tempDir(), 'state');
      const first = await Launcher.open({ stateDir, runtime });
      const proc = await first.start({ id: 'left', args: ['/bin/sleep', '60'] });
      // A watcher of the exit fifo, as DESIGN §4 describes one (non-blocking open: the writer is there).
      const watcher = new Socket({
        fd: openSync(join(proc.dir, 'exit'), constants.O_RDONLY | constants.O_NONBLOCK),
        readable: true,
        writable: false,
      });
      const eof = once(watcher.resume(), 'end');
      await first.close({ containers: 'leave' });
      await eof; // the launcher no longer holds the exit fifo's writer
      watcher.destroy();
      assert.ok(isRunning(proc.pid), 'left running');

      const second = await Launcher.open({ stateDir, runtime });
      assert.deepEqual([second.get('left')?.state, second.liveCount], ['running', 1], 'adopted');
      const began = Date.now();
      await second.close({ containers: 'kill', graceMs: 500 });
      assert.ok(Date.now() - began < 15_000, 'an adopted container is killed too, not waited for');
      assert.ok(!isRunning(proc.pid));
      const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
      assert.deepEqual([store?.get('left')?.state, store?.get('left')?.exitCode], ['lost', 255]);
      store?.close();
      assert.deepEqual(runtimeContainers(second), []);
    });

    it('close() during a burst of starts drops the queued ones (ERR_LAUNCHER_CLOSED), settles the rest, and leaves every record final', async () => {
      const launcher = await openLauncher(runtime, { workers: 1, tasksPerWorker: 2 });
      await launcher.defaultBundle();
      const ids = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
      const starts = ids.map((id) => launcher.start({ id, args: ['/bin/sleep', '60'] }));
      // Close once all are subscribed: two run in the worker, six wait in the queue.
      while (!ids.every((id) => launcher.get(id) !== undefined)) await new Promise((resolve) => setImmediate(resolve));
      const closing = launcher.close({ containers: 'kill', graceMs: 500 });
      await assert.rejects(launcher.start({ id: 'too-late', args: ['/bin/true'] }), { code: 'ERR_LAUNCHER_CLOSED' });
      const outcomes = await Promise.allSettled(starts);
      await closing;
      const dropped = outcomes.filter((o) => o.status === 'rejected').map((o) => (o.reason as SalvoError).code);
      assert.ok(dropped.length >= ids.length - 2, `at most the two starts in flight ran (${dropped.length} dropped)`);
      assert.deepEqual([...new Set(dropped)], ['ERR_LAUNCHER_CLOSED']);
      for (const o of outcomes) if (o.status === 'fulfilled') assert.notEqual((await (o.value as Proc).exited).signal, null, 'started, then killed');
      const store = Store.openReadOnly(join(launcher.stateDir, 'salvo.db'));
      for (const id of ids) {
        const record = store?.get(id);
        assert.ok(record?.state === 'exited' || record?.state === 'failed', `${id}: ${record?.state}`);
        if (record?.state === 'failed') assert.equal(record.errorCode, 'ERR_LAUNCHER_CLOSED');
      }
      store?.close();
      assert.deepEqual(runtimeContainers(launcher), []);
    });

    it('SIGTERM to salvo batch stops running jobs, reports every job, leaves every record final and exits 143', async () => {
      const dir = tempDir();
      const stateDir = join(dir, 'state');
      const ids = Array.from({ length: 10 }, (_, i) => `term-${i}`);
      const jobs = ids.map((id, i) => ({ id, args: i % 3 === 0 ? IGNORES_TERM : ['/bin/sleep', '60'] }));
      const run = salvoChild(stateDir, runtime, [
        'batch',
        writeJobs(dir, jobs),
        '--ndjson',
        '--starts-in-flight',
        '2',
        '--concurrency',
        '4',
        '--grace',
        '1s',
      ]);
      await waitFor('four jobs to run', () => run.lines.filter((l) => l.event === 'started').length >= 4, 60_000);
      run.child.kill('SIGTERM');
      const exit = await run.exited;
      assert.equal(exit.code, 143, run.stderr());
      const finished = run.lines.filter((l) => l.event === 'finished') as unknown as JobResult[];
      assert.deepEqual(finished.map((r) => r.id).sort(), [...ids].sort(), 'a result for every job');
      assert.ok(finished.every((r) => r.state === 'canceled'));
      const ran = finished.filter((r) => r.pid !== null);
      for (const r of ran) assert.ok(r.signal === 'SIGTERM' || r.signal === 'SIGKILL', `${r.id}: ${r.signal}`);
      for (const id of ids) {
        const pid = startedPid(run, id);
        if (pid !== undefined) assert.ok(!isRunning(pid), `${id}'s container is gone`);
      }
      const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
      assert.deepEqual(store?.list({ states: ['subscribed', 'running'] }), []);
      store?.close();
      await stopServing(stateDir, runtime);
      assert.deepEqual(processesMentioning(stateDir), [], 'no runtime command or helper of it is left');
      const check = await Launcher.open({ stateDir, runtime });
      try {
        assert.deepEqual(runtimeContainers(check), []);
      } finally {
        await check.close();
      }
    });
  });
}
