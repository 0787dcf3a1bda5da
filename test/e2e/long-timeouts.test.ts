// Timeouts of 2^31 ms or more (Node fires such a setTimeout after 1 ms): a 30-day timeout must
// not stop a job that ends on its own, and a huge startTimeoutMs must not fail starts as hung.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Launcher, SalvoError } from '../../src/index.js';
import type { JobResult } from '../../src/index.js';
import { RUNTIMES, openLauncher, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const THIRTY_DAYS_MS = 30 * 86_400_000;
// Runs long enough for a timer that fired at once to have killed it.
const ENDS_WITH_3 = ['/bin/sh', '-c', 'sleep 1; exit 3'];

for (const runtime of RUNTIMES) {
  describe(`timeouts of 2^31 ms and more (${runtime})`, { timeout: 300_000 }, () => {
    it('lets a batch job with a 30-day timeout and a 30-day grace end on its own', async () => {
      const launcher = await openLauncher(runtime, { startTimeoutMs: 2 ** 31 + 5 });
      try {
        const results: JobResult[] = [];
        for await (const result of launcher.batch([{ id: 'iso-long-job', args: ENDS_WITH_3 }], {
          timeoutMs: THIRTY_DAYS_MS,
          graceMs: THIRTY_DAYS_MS,
        })) {
          results.push(result);
        }
        assert.deepEqual(
          results.map((r) => [r.state, r.exitCode]),
          [['exited', 3]],
        );
      } finally {
        await launcher.close();
      }
    });

    it("salvo run --timeout 30d --grace 30d exits with the container's code", async () => {
      const result = await execa(process.execPath, [MAIN, 'run', '--timeout', '30d', '--grace', '30d', '--', ...ENDS_WITH_3], {
        reject: false,
        env: { SALVO_STATE_DIR: join(tempDir(), 'state'), SALVO_RUNTIME: runtime, NO_COLOR: '1' },
      });
      assert.equal(result.exitCode, 3, result.stderr);
    });
  });
}

describe('messages about a timeout that is not a number', () => {
  it('show NaN as NaN, not as null', async () => {
    const launcher = await Launcher.open({ stateDir: join(tempDir(), 'state'), runtime: RUNTIMES[0] ?? 'runc' });
    try {
      const batch = launcher.batch([], { timeoutMs: Number.NaN });
      await assert.rejects(batch.next(), (error: unknown) => error instanceof SalvoError && /got NaN/.test(error.message));
      const job = launcher.batch([{ id: 'iso-nan', args: ['/bin/true'], timeoutMs: Number.NaN }]);
      const first = await job.next();
      assert.match(String((first.value as JobResult | undefined)?.error?.message), /got NaN/);
    } finally {
      await launcher.close();
    }
  });
});
