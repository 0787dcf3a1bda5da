// Micro benchmarks of the launch path's own work: argv building, log.json parsing, decoding reap
// records, a store transaction of 1,000 exits, a real reap pass of 1,000 ready zombies, and the
// spawner row (native vs execa spawns of /bin/true at 100 and 500 MB of heap).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProcStat } from '../src/io/procfs.js';
import { Reaper, decodeRecords } from '../src/reaper/reaper.js';
import { commandLine, runArgs } from '../src/runtime/argv.js';
import { lastErrorMessage } from '../src/runtime/log.js';
import { Store, type ExitRow } from '../src/store/store.js';
import { benchmarkCase, timedCase, type MicroResult } from './harness.js';
import { runSpawnerMicro } from './spawner.js';

const RUNC_LOG = [
  ...Array.from({ length: 30 }, (_, i) => JSON.stringify({ level: 'info', msg: `step ${i} of the container setup`, time: '2026-11-28T18:00:00Z' })),
  JSON.stringify({ level: 'warning', msg: 'cgroup v1 is deprecated', time: '2026-11-28T18:00:00Z' }),
  JSON.stringify({
    level: 'error',
    msg: 'runc run failed: unable to start container process: exec: "/nosuch": stat /nosuch: no such file or directory',
    time: '2026-11-28T18:00:00Z',
  }),
].join('\n');

/** `count` zombie processes re-parented to this (subreaper) process: perl forks them and exits. */
function zombies(count: number): number[] {
  const script = `$|=1; for (1..${count}) { my $p = fork(); if ($p == 0) { exit 0 } print "$p\\n" }`;
  const pids = execFileSync('/usr/bin/perl', ['-e', script], { encoding: 'utf8' }).trim().split('\n').map(Number);
  for (const pid of pids)
    while (readProcStat(pid)?.state !== 'Z') {
      /* exits within microseconds */
    }
  return pids;
}

export async function runMicro(): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  const invocation = {
    file: '/opt/salvo/build/Release/salvo-exec',
    prefix: ['1234', '-', '/usr/sbin/runc'],
    root: '/run/salvo/runtime/runc',
    extraGlobalArgs: [],
  };
  results.push(
    benchmarkCase('argv: run -d command line', () => {
      commandLine(
        invocation,
        '/run/salvo/containers/job-17/init/log.json',
        runArgs('job-17', { bundle: '/b', pidFile: '/run/salvo/containers/job-17/init/pid' }),
      );
    }),
  );
  results.push(benchmarkCase('log.json: last error of a 32-line runc log', () => void lastErrorMessage(RUNC_LOG)));
  const records = new Float64Array(6000);
  for (let i = 0; i < 1000; i++) records.set([10_000 + i, i % 3 === 0 ? 1 : 0, i % 3 === 0 ? 9 : i % 256, 1200, 3400, 9000], i * 6);
  results.push(benchmarkCase('decode 1,000 reap records', () => void decodeRecords(records)));

  const dir = mkdtempSync(join(tmpdir(), 'salvo-micro-'));
  const store = Store.open(join(dir, 'salvo.db'), { pid: process.pid, pidStartTime: null, bootId: null });
  let n = 0;
  const subscribeRunning = (count: number): number[] =>
    Array.from({ length: count }, () => {
      const seq = store.subscribe({ id: `m${n++}`, execId: 'init', dir: '/x', bundle: null, batchId: null, labels: null, at: Date.now() });
      store.markRunning(seq, 100_000 + n, 1, Date.now());
      return seq;
    });
  const exitRows = (seqs: number[]): ExitRow[] =>
    seqs.map((seq) => ({ seq, state: 'exited', exitCode: 0, signal: null, userUs: 1, systemUs: 2, maxRssKb: 3, at: Date.now() }));
  results.push(
    await timedCase(
      'store: one transaction of 1,000 exits',
      30,
      () => exitRows(subscribeRunning(1000)),
      (rows) => void store.recordExits(rows),
    ),
  );
  results.push(
    await timedCase(
      'store: subscribe + mark running (one launch)',
      2000,
      () => undefined,
      () => void subscribeRunning(1),
    ),
  );

  // A real pass: 1,000 ready zombies, waitid each, commit all their exits in one transaction.
  let pending: Map<number, number> = new Map();
  const reaper = Reaper.open((exits) => {
    store.recordExits(
      exits.map((e) => ({
        seq: pending.get(e.pid) ?? 0,
        state: 'exited',
        exitCode: e.exitCode,
        signal: e.signal,
        userUs: e.userUs,
        systemUs: e.systemUs,
        maxRssKb: e.maxRssKb,
        at: Date.now(),
      })),
    );
  });
  results.push(
    await timedCase(
      'reap pass: 1,000 ready pids, reaped and committed',
      8,
      () => {
        const pids = zombies(1000);
        const seqs = subscribeRunning(1000);
        pending = new Map(pids.map((pid, i) => [pid, seqs[i] as number]));
        reaper.passLatency.reset();
        return pids;
      },
      (pids) => {
        reaper.trackAll(pids);
        return reaper.passLatency.max; // the pass alone, not the 1,000 pidfd_opens before it
      },
    ),
  );
  reaper.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  results.push(...(await runSpawnerMicro()));
  return results;
}
