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
import { closeAndReport, countResult, newSummary, stderrLogger } from './limited-summary.js';

const [runtime = 'runc', stateDir = '', countText = '500', sleepText = '0', mode = 'fds', ...modeArgs] = process.argv.slice(2);
const count = Number(countText);
const launcher = await Launcher.open({ stateDir, runtime, logger: stderrLogger });
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
const summary = newSummary({ nofileLimit, fdsInUse: headroom?.inUse ?? null, fdsFree: headroom?.free ?? null, pidsMax });
for await (const result of launcher.batch(jobs, { concurrency: 8 })) {
  const right = result.state === 'exited' && result.exitCode === result.index % 7 && result.signal === null;
  const wrong = `${result.id}: ${result.state} ${result.exitCode} ${result.error?.code ?? ''} ${result.error?.message ?? ''}`;
  countResult(summary, right ? null : wrong, result.timings.waitedMs);
}
headroom?.release();
await closeAndReport(launcher, summary);
