// The soak at CI size (SALVO_SOAK_COUNT, default 400 per runtime): every exit recorded exactly
// once and right, exitStatus files agree with the store, no lost record, no zombie, no container
// left in the runtime, no fd leaked. `npm run soak -- 2000` runs the same check at any size.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';
import { formatSoakReport, runSoak } from './soak.js';

after(removeTempDirs);

const COUNT = Number(process.env.SALVO_SOAK_COUNT ?? 400);

describe('soak', { timeout: 900_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`records ${COUNT} random exits, kills from outside and short sleeps exactly once and leaves nothing behind (${runtime})`, async () => {
      const report = await runSoak({ runtime, count: COUNT, stateDir: join(tempDir(), 'state') });
      process.stderr.write(`# soak ${formatSoakReport(report)}\n`);
      assert.deepEqual(report.wrong, [], `wrong results (seed ${report.seed})`);
      assert.equal(report.launches, COUNT);
      assert.equal(report.exitsChecked, COUNT);
      assert.ok(report.killedFromOutside > COUNT / 10, `${report.killedFromOutside} kills from outside`);
      assert.equal(report.lost, 0);
      assert.equal(report.zombies, 0);
      assert.equal(report.leakedFds, 0);
      assert.deepEqual(report.leftInRuntime, []);
    });
  }
});
