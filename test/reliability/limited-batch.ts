// The child process of resource-limits.test.ts: opens a launcher, then leaves it only a few fds
// (dummy fds fill the rest of RLIMIT_NOFILE) or moves itself into a pids cgroup with a few
// processes of headroom, runs a batch, closes, and prints one JSON summary line. The headroom is
// counted from what the open launcher uses, so the limit is reached whatever the machine's speed.
// usage: node limited-batch.js RUNTIME STATE_DIR COUNT SLEEP_SECONDS fds HEADROOM
//        node limited-batch.js RUNTIME STATE_DIR COUNT SLEEP_SECONDS pids CGROUP_DIR HEADROOM
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Launcher } from '../../src/index.js';
import type { JobSpec } from '../../src/index.js';
import { leaveFreeFds, nofileLimit as readNofileLimit, type FdHeadroom } from './fd-headroom.js';

export interface LimitedBatchSummary {
  nofileLimit: number;
  /** With `fds`: the fds the open launcher used, and how many were left free for the batch. */
  fdsInUse: number | null;
  fdsFree: number | null;
  pidsMax: number | null;
  results: number;
  exitedRight: number;
  notRight: string[];
  waitedJobs: number;
  waitedMsTotal: number;
  waitedMsMax: number;
  leftInRuntime: number;
}

const [runtime = 'runc', stateDir = '', countText = '500', sleepText = '0', mode = 'fds', ...modeArgs] = process.argv.slice(2);
const count = Number(countText);
// Warnings go to stderr: the test shows them when a job did not exit right.
const say =
  (level: string) =>
  (obj: object, msg?: string): void =>
    void process.stderr.write(`${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
const logger = { debug: () => undefined, info: () => undefined, warn: say('warn'), error: say('error') };
const launcher = await Launcher.open({ stateDir, runtime, logger });
// Node's lazy, lasting fds (the /dev/null libuv keeps after a first spawn, busybox --list) come now, not mid-batch.
await launcher.defaultBundle();
const nofileLimit = readNofileLimit();
let pidsMax: number | null = null;
let headroom: FdHeadroom | null = null;
if (mode === 'fds') {
  // Only now: Node, the workers and the store are up; every fd from here on counts.
  headroom = leaveFreeFds(Number(modeArgs[0]));
} else {
  const [cgroup = '', headroomText = '16'] = modeArgs;
  // Only now: Node, the workers and the store are up; every fork from here on counts.
  writeFileSync(join(cgroup, 'cgroup.procs'), `${process.pid}\n`);
  pidsMax = Number(readFileSync(join(cgroup, 'pids.current'), 'utf8')) + Number(headroomText);
  writeFileSync(join(cgroup, 'pids.max'), `${pidsMax}\n`);
}
const script = (i: number): string => (sleepText === '0' ? `exit ${i % 7}` : `sleep ${sleepText}; exit ${i % 7}`);
const jobs: JobSpec[] = Array.from({ length: count }, (_, i) => ({ id: `limited-${i}`, args: ['/bin/sh', '-c', script(i)] }));
const summary: LimitedBatchSummary = {
  nofileLimit,
  fdsInUse: headroom?.inUse ?? null,
  fdsFree: headroom?.free ?? null,
  pidsMax,
  results: 0,
  exitedRight: 0,
  notRight: [],
  waitedJobs: 0,
  waitedMsTotal: 0,
  waitedMsMax: 0,
  leftInRuntime: 0,
};
for await (const result of launcher.batch(jobs, { concurrency: 8 })) {
  summary.results++;
  if (result.state === 'exited' && result.exitCode === result.index % 7 && result.signal === null) summary.exitedRight++;
  else summary.notRight.push(`${result.id}: ${result.state} ${result.exitCode} ${result.error?.code ?? ''} ${result.error?.message ?? ''}`);
  if (result.timings.waitedMs > 0) summary.waitedJobs++;
  summary.waitedMsTotal += result.timings.waitedMs;
  summary.waitedMsMax = Math.max(summary.waitedMsMax, result.timings.waitedMs);
}
headroom?.release();
await launcher.close();
summary.leftInRuntime = (await import('../helpers.js')).runtimeContainers(launcher).length;
process.stdout.write(`${JSON.stringify(summary)}\n`);
