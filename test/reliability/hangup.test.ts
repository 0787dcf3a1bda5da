// SIGHUP (a closed terminal or SSH session) to `salvo batch` and `salvo run` is treated like
// SIGTERM: running containers are stopped, every record is final, the report is written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobResult } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';
import { salvoChild, startedPid, writeJobs } from './cli-child.js';
import { isRunning, waitFor } from './processes.js';

after(removeTempDirs);

function recordState(stateDir: string, id: string): string | undefined {
  let store;
  try {
    store = Store.openReadOnly(join(stateDir, 'salvo.db'));
  } catch {
    return undefined; // not made yet
  }
  try {
    return store?.get(id)?.state;
  } finally {
    store?.close();
  }
}

for (const runtime of RUNTIMES) {
  describe(`SIGHUP (${runtime})`, { timeout: 300_000 }, () => {
    it('to salvo batch stops running jobs, reports every job, leaves every record final and exits 129', async () => {
      const dir = tempDir();
      const stateDir = join(dir, 'state');
      const ids = Array.from({ length: 4 }, (_, i) => `iso-hup-${i}`);
      const run = salvoChild(stateDir, runtime, [
        'batch',
        writeJobs(
          dir,
          ids.map((id) => ({ id, args: ['/bin/sleep', '60'] })),
        ),
        '--ndjson',
        '--max-running',
        '2',
        '--grace',
        '1s',
      ]);
      await waitFor('two jobs to run', () => run.lines.filter((l) => l.event === 'started').length >= 2, 60_000);
      run.child.kill('SIGHUP');
      const exit = await run.exited;
      assert.deepEqual([exit.code, exit.signal], [129, null], run.stderr());
      const finished = run.lines.filter((l) => l.event === 'finished') as unknown as JobResult[];
      assert.deepEqual(finished.map((r) => r.id).sort(), ids, 'a result for every job');
      assert.ok(finished.every((r) => r.state === 'canceled'));
      for (const id of ids) {
        const pid = startedPid(run, id);
        if (pid !== undefined) assert.ok(!isRunning(pid), `${id}'s container is gone`);
      }
      const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
      assert.deepEqual(store?.list({ states: ['subscribed', 'running'] }), [], 'every record is final');
      store?.close();
    });

    it('to salvo run stops the container and exits with its code', async () => {
      const stateDir = join(tempDir(), 'state');
      const run = salvoChild(stateDir, runtime, ['run', '--id', 'iso-hup-run', '--grace', '1s', '--', '/bin/sleep', '60']);
      await waitFor('the container to run', () => recordState(stateDir, 'iso-hup-run') === 'running', 60_000);
      run.child.kill('SIGHUP');
      const exit = await run.exited;
      assert.deepEqual([exit.code, exit.signal], [143, null], run.stderr());
      assert.equal(recordState(stateDir, 'iso-hup-run'), 'exited');
    });
  });
}
