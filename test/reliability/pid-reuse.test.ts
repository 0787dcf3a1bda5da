// Pid reuse across a launcher restart: identity is (pid, start time from /proc/<pid>/stat field
// 22), so recovery never attaches a record to an unrelated process that now has the pid.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Launcher } from '../../src/index.js';
import { native } from '../../src/native.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, removeTempDirs, sleep, tempDir } from '../helpers.js';
import { orphans, waitForZombie } from '../reaper/processes.js';
import { isRunning, startTimeOf, waitFor } from './processes.js';

after(removeTempDirs);

const RUNTIME = RUNTIMES[0] ?? 'runc';

describe('pid reuse', { timeout: 120_000 }, () => {
  it('never attaches a record to an unrelated process that got its pid, and leaves that process alone', async () => {
    const stateDir = join(tempDir(), 'state');
    // A first launcher makes the store (and this process a subreaper, so the sleeps below are ours).
    await (await Launcher.open({ stateDir, runtime: RUNTIME })).close();
    const [unrelated, same] = orphans(2, 'sleep 60') as [number, number];
    const unrelatedStart = startTimeOf(unrelated);
    // Recovery accepts a pid file's process only if it started after the subscription (1 s slack).
    await sleep(2500);

    // Forge what a launcher that died could have left, through the store's own API.
    const store = Store.open(join(stateDir, 'salvo.db'), { pid: 4_000_000, pidStartTime: 1, bootId: null });
    // Records in the layout before per-run directories (containers/<id>/init) still recover.
    const processDir = (_: string, id: string): string => join(stateDir, 'containers', id, 'init');
    const forge = (id: string): number =>
      store.subscribe({ id, execId: 'init', dir: processDir(stateDir, id), bundle: null, batchId: 'forged', labels: null, at: Date.now() });
    // Its record names the pid, but the process there started at another time: the pid was reused.
    store.markRunning(forge('reused-running'), unrelated, unrelatedStart - 1, Date.now() - 60_000);
    // Subscribed when it died; the pid file names a process older than the subscription.
    mkdirSync(processDir(stateDir, 'reused-pid-file'), { recursive: true });
    writeFileSync(join(processDir(stateDir, 'reused-pid-file'), 'pid'), `${unrelated}\n`);
    forge('reused-pid-file');
    // The control: the same pid and the same start time is the same process, and is adopted.
    store.markRunning(forge('same-process'), same, startTimeOf(same), Date.now() - 60_000);
    store.close();

    const launcher = await Launcher.open({ stateDir, runtime: RUNTIME });
    try {
      for (const id of ['reused-running', 'reused-pid-file']) {
        const record = launcher.get(id);
        assert.deepEqual([record?.state, record?.exitCode], ['lost', 255], `${id} is lost, not attached to pid ${unrelated}`);
      }
      assert.equal(launcher.get('same-process')?.state, 'running', 'the control is adopted');
      assert.equal(launcher.liveCount, 1, 'only the control is watched');
      process.kill(same, 'SIGKILL');
      await waitFor('the adopted control to end', () => launcher.get('same-process')?.state === 'lost');
      assert.equal(launcher.get('same-process')?.exitCode, 255);
    } finally {
      await launcher.close();
    }
    assert.ok(isRunning(unrelated, unrelatedStart), 'the unrelated process was neither signalled nor reaped');

    process.kill(unrelated, 'SIGKILL');
    await waitForZombie(unrelated);
    native().waitPid(unrelated);
  });
});
