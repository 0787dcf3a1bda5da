// salvo bench end to end, small: every row records every exit and carries a salvo/C-driver ratio.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { E2eRow } from '../../src/bench/e2e.js';
import type { BenchReport } from '../../src/bench/macro.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

it('benchmarks every runtime and concurrency beside the bare runtime, with every exit recorded', { timeout: 600_000 }, async () => {
  const result = await execa(
    process.execPath,
    [MAIN, 'bench', '--runtime', RUNTIMES.join(','), '--count', '12', '--concurrency', '1,2', '--rounds', '2', '--baseline', '--json', '-'],
    { env: { SALVO_STATE_DIR: join(tempDir(), 'state') }, reject: false },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  const report = JSON.parse(result.stdout) as BenchReport;
  assert.equal(report.rows.length, RUNTIMES.length * 2);
  for (const row of report.rows) {
    assert.equal(row.salvo.exitsRecorded, 12, `${row.runtime} K=${row.concurrency}`);
    assert.equal(row.salvo.failures, 0);
    assert.equal(row.baseline?.count, 12);
    assert.equal(row.baseline?.failures, 0, row.baseline?.firstError ?? '');
    assert.equal(row.nodeBaseline?.count, 12, 'the Node driver is the second baseline row');
    assert.ok(row.throughputRatio !== null && row.throughputRatio > 0);
    assert.ok(row.salvo.latency.p50 > 0 && row.salvo.latency.p99 >= row.salvo.latency.p50);
  }
  assert.match(result.stderr, /throughput salvo\/C driver \d\.\d{3}/, 'the ratios are printed');
});

it(
  'measures short jobs end to end through salvo beside xargs -P K runtime run and salvo batch from the CLI (--e2e)',
  { timeout: 600_000 },
  async () => {
    const stateDir = join(tempDir(), 'state');
    const result = await execa(
      process.execPath,
      [MAIN, 'bench', '--e2e', '--runtime', RUNTIMES.join(','), '--count', '6', '--concurrency', '2', '--rounds', '2', '--json', '-'],
      { env: { SALVO_STATE_DIR: stateDir }, reject: false },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as E2eRow[];
    assert.deepEqual(
      rows.map((r) => r.runtime),
      [...RUNTIMES],
    );
    for (const row of rows) {
      assert.deepEqual([row.count, row.concurrency, row.salvoFailures, row.bareFailures, row.cliFailures], [6, 2, 0, 0, 0], row.runtime);
      assert.ok(row.salvoJobsPerSec > 0 && row.bareJobsPerSec > 0 && row.ratio > 0);
      // The CLI rows: whole `salvo batch` processes, with a serving launcher up and with none.
      assert.ok(row.cliWarmJobsPerSec > 0 && row.cliColdJobsPerSec > 0, row.runtime);
    }
    // The CLI's jobs ran through its own serving launcher, which the bench stopped at the end.
    for (const runtime of RUNTIMES) {
      const cliDir = join(stateDir, 'bench-e2e', runtime, 'cli');
      const ids = readdirSync(join(cliDir, 'containers'));
      assert.equal(ids.filter((id) => /^e2e-c-[wc]/.test(id)).length, 6 * 2 * 2, `${runtime}: warm and cold, both rounds`);
      assert.ok(!existsSync(join(cliDir, 'salvo.sock')), `${runtime}: no launcher left serving`);
    }
  },
);
