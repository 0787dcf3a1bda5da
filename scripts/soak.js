#!/usr/bin/env node
// The soak of test/reliability at any size: npm run soak -- [count] [--runtimes runc,crun]
// [--concurrency N] [--seed N]. Prints launches, exits checked, lost, zombies and leaked fds per
// runtime; exits 1 when any check fails. Run after `npm run build` (npm run soak does).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSoakReport, runSoak } from '../dist/test/reliability/soak.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runtimes: { type: 'string', default: 'runc,crun' },
    concurrency: { type: 'string', default: '8' },
    seed: { type: 'string' },
  },
});
const count = Number(positionals[0] ?? 2000);
if (!Number.isInteger(count) || count < 1) {
  console.error(`soak: count must be a positive integer, got ${positionals[0]}`);
  process.exit(2);
}

let failed = false;
for (const runtime of values.runtimes.split(',')) {
  const dir = mkdtempSync(join(tmpdir(), 'salvo-soak-'));
  try {
    const report = await runSoak({
      runtime,
      count,
      stateDir: join(dir, 'state'),
      concurrency: Number(values.concurrency),
      seed: values.seed === undefined ? undefined : Number(values.seed),
    });
    console.log(formatSoakReport(report));
    for (const line of report.wrong.slice(0, 20)) console.log(`  wrong: ${line}`);
    if (report.leakedFdTargets.length > 0) console.log(`  fds open after close only: ${report.leakedFdTargets.join(', ')}`);
    if (report.leftInRuntime.length > 0) console.log(`  left in runtime: ${report.leftInRuntime.join(' ')}`);
    const ok =
      report.wrong.length === 0 &&
      report.lost === 0 &&
      report.zombies === 0 &&
      report.leakedFds === 0 &&
      report.leftInRuntime.length === 0 &&
      report.launches === count &&
      report.exitsChecked === count;
    if (!ok) failed = true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
