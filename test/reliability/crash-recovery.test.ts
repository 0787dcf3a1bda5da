// A launcher killed with SIGKILL in the middle of a batch, and the launcher that opens the state
// directory after it (DESIGN §7): every subscribed or running record is resolved, nothing stays
// running, the store is intact, `salvo gc` clears the runtime, records keep the launcher that
// started them, and no runtime CLI of the dead launcher survives it (salvo-exec's PDEATHSIG).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Launcher } from '../../src/index.js';
import type { JobSpec } from '../../src/index.js';
import { cgroupMounts, cgroupParentName } from '../../src/io/cgroups.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, lastRunDir, removeTempDirs, tempDir } from '../helpers.js';
import { salvoChild, servingPid, startedPid, finished, writeJobs } from './cli-child.js';
import { hungRuntimePid, writeFakeRuntime } from './fake-runtime.js';
import { isRunning, processesMentioning, startTimeOf, waitFor } from './processes.js';

after(removeTempDirs);

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const DONE = range('done', 4); // finished before the crash: untouched
const LONG = range('long', 3); // running at the crash and after it: adopted, lost when they end
const SHORT = range('short', 3); // running at the crash, ended before recovery: lost at once
const LATE = range('late', 2); // the runtime hung after starting them: subscribed, running, adopted by pid file
const HANG = range('hang', 2); // the runtime hung before making anything: subscribed, lost at once

function runtimeList(runtime: string, root: string): { id: string; status: string }[] {
  const out = execFileSync(runtime, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' }).trim();
  return out === '' || out === 'null' ? [] : (JSON.parse(out) as { id: string; status: string }[]);
}

for (const runtime of RUNTIMES) {
  describe(`a launcher killed mid-batch (${runtime})`, { timeout: 300_000 }, () => {
    it('leaves records that the next launcher resolves, a store that is intact, and nothing that gc cannot clear', async () => {
      const dir = tempDir();
      const stateDir = join(dir, 'state');
      const fake = writeFakeRuntime(dir, runtime);
      const jobs: JobSpec[] = [
        ...DONE.map((id) => ({ id, args: ['/bin/sh', '-c', 'exit 3'] })),
        ...LONG.map((id) => ({ id, args: ['/bin/sleep', '120'] })),
        ...SHORT.map((id) => ({ id, args: ['/bin/sleep', '2'] })),
        ...LATE.map((id) => ({ id, args: ['/bin/sleep', '120'] })),
        ...HANG.map((id) => ({ id, args: ['/bin/true'] })),
      ];
      const run = salvoChild(stateDir, fake.path, ['batch', writeJobs(dir, jobs), '--ndjson', '--starts-in-flight', '8']);

      // The moment: DONE finished, LONG and SHORT running, LATE and HANG stuck in a hung runtime.
      await waitFor(
        'the batch to reach the crash point',
        () =>
          DONE.every((id) => finished(run, id) !== undefined) &&
          [...LONG, ...SHORT].every((id) => startedPid(run, id) !== undefined) &&
          [...LATE, ...HANG].every((id) => hungRuntimePid(fake, id) !== null),
        60_000,
      );
      const containerPid = new Map([...LONG, ...SHORT].map((id) => [id, startedPid(run, id) as number]));
      for (const id of LATE) containerPid.set(id, Number(readFileSync(join(lastRunDir(stateDir, id), 'pid'), 'utf8')));
      const hungRuntimes = [...LATE, ...HANG].map((id) => {
        const pid = hungRuntimePid(fake, id) as number;
        return { pid, startTime: startTimeOf(pid) };
      });
      // The launcher is the serving one the batch command started: that is what crashes.
      const crashedPid = servingPid(stateDir) as number;
      assert.ok(crashedPid !== null && crashedPid !== run.child.pid);
      const crashAt = Date.now();
      process.kill(crashedPid, 'SIGKILL');
      run.child.kill('SIGKILL');
      assert.equal((await run.exited).signal, 'SIGKILL');

      // Its runtime CLIs die with it (PR_SET_PDEATHSIG fires as its threads die).
      await waitFor('the hung runtime CLIs to die with the launcher', () => hungRuntimes.every((r) => !isRunning(r.pid, r.startTime)), 10_000);
      await waitFor('no runtime command of the dead launcher left', () => processesMentioning(join(stateDir, 'runtime')).length === 0, 10_000);
      for (const id of [...LONG, ...LATE]) assert.ok(isRunning(containerPid.get(id) as number), `${id} still runs`);
      await waitFor('the short containers to end', () => SHORT.every((id) => !isRunning(containerPid.get(id) as number)), 20_000);

      const openedAt = Date.now();
      const launcher = await Launcher.open({ stateDir, runtime: fake.path, deleteAfterExit: false, orphanGraceMs: 500 });
      try {
        for (const id of DONE) assert.deepEqual([launcher.get(id)?.state, launcher.get(id)?.exitCode], ['exited', 3], id);
        for (const id of [...SHORT, ...HANG]) {
          const record = launcher.get(id);
          assert.deepEqual([record?.state, record?.exitCode, record?.signal], ['lost', 255, null], `${id} is lost at once`);
          assert.ok((record?.exitedAt ?? 0) >= openedAt, `${id} ended when recovery found it gone`);
        }
        for (const id of [...LONG, ...LATE]) {
          const record = launcher.get(id);
          assert.deepEqual([record?.state, record?.pid], ['running', containerPid.get(id)], `${id} is adopted`);
          assert.ok((record?.startedAt ?? Infinity) <= crashAt, `${id} keeps the time it really started`);
        }
        assert.equal(launcher.liveCount, LONG.length + LATE.length);

        // Adopted processes are not ours to reap: their status is unknown, so they end lost, 255.
        for (const id of [...LONG, ...LATE]) await launcher.kill(id, 'SIGKILL');
        await waitFor('the adopted containers to be recorded', () => [...LONG, ...LATE].every((id) => launcher.get(id)?.state === 'lost'));
        for (const id of [...LONG, ...LATE]) {
          assert.deepEqual([launcher.get(id)?.exitCode, launcher.get(id)?.signal], [255, null]);
          assert.ok(!isRunning(containerPid.get(id) as number));
        }
        assert.deepEqual(launcher.list({ states: ['subscribed', 'running'] }), [], 'nothing stays running');
      } finally {
        await launcher.close();
      }

      const db = join(stateDir, 'salvo.db');
      const store = Store.openReadOnly(db);
      assert.equal(store?.integrityCheck(), 'ok');
      store?.close();
      const sql = new Database(db, { readonly: true });
      try {
        const instances = sql.prepare('SELECT instance, pid FROM launcher').all() as { instance: number; pid: number }[];
        const crashed = instances.find((i) => i.pid === crashedPid)?.instance;
        const recovering = instances.find((i) => i.pid === process.pid)?.instance;
        assert.ok(crashed !== undefined && recovering !== undefined && crashed !== recovering);
        const rows = sql.prepare('SELECT container_id AS id, launcher FROM processes').all() as { id: string; launcher: number }[];
        assert.equal(rows.length, jobs.length, 'one record per job, none added by recovery');
        for (const row of rows) assert.equal(row.launcher, crashed, `${row.id} stays the crashed launcher's`);
      } finally {
        sql.close();
      }

      // What the crashed launcher and the no-delete recovery left in the runtime, gc removes.
      const root = join(stateDir, 'runtime', runtime);
      const leftovers = runtimeList(runtime, root);
      assert.ok(leftovers.length >= LONG.length + LATE.length, `leftovers: ${JSON.stringify(leftovers)}`);
      const gc = salvoChild(stateDir, fake.path, ['gc', '--json']);
      const gcExit = await gc.exited;
      assert.equal(gcExit.code, 0, gc.stderr());
      assert.deepEqual(runtimeList(runtime, root), [], 'salvo gc leaves no container');
      assert.deepEqual(readdirSync(join(stateDir, 'containers')), [], 'nor a process directory');
      assert.ok(!existsSync(join(stateDir, 'containers', 'hang-0')));
      const cgroups = cgroupMounts().map((m) => join(m, cgroupParentName(stateDir)));
      assert.deepEqual(
        cgroups.filter((c) => existsSync(c)),
        [],
        'nor a cgroup',
      );
    });
  });
}
