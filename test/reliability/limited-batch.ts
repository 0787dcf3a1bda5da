// The child process of resource-limits.test.ts: opens a launcher, optionally moves itself into a
// pids cgroup with little headroom left, runs a batch, closes, and prints one JSON summary line.
// usage: node limited-batch.js RUNTIME STATE_DIR COUNT SLEEP_SECONDS [PIDS_CGROUP_DIR HEADROOM]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Launcher } from '../../src/index.js';
import type { JobSpec } from '../../src/index.js';

export interface LimitedBatchSummary {
  nofileLimit: number;
  pidsMax: number | null;
  results: number;
  exitedRight: number;
  notRight: string[];
  waitedJobs: number;
  waitedMsTotal: number;
  waitedMsMax: number;
  leftInRuntime: number;
}

const [runtime = 'runc', stateDir = '', countText = '500', sleepText = '0', cgroup, headroomText] = process.argv.slice(2);
const count = Number(countText);
// Warnings go to stderr: the test shows them when a job did not exit right.
const say = (level: string) => (obj: object, msg?: string): void => void process.stderr.write(`${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
const logger = { debug: () => undefined, info: () => undefined, warn: say('warn'), error: say('error') };
const launcher = await Launcher.open({ stateDir, runtime, logger });
let pidsMax: number | null = null;
if (cgroup !== undefined) {
  // Only now: Node, the workers and the store are up; every fork from here on counts.
  writeFileSync(join(cgroup, 'cgroup.procs'), `${process.pid}\n`);
  pidsMax = Number(readFileSync(join(cgroup, 'pids.current'), 'utf8')) + Number(headroomText);
  writeFileSync(join(cgroup, 'pids.max'), `${pidsMax}\n`);
}
const script = (i: number): string => (sleepText === '0' ? `exit ${i % 7}` : `sleep ${sleepText}; exit ${i % 7}`);
const jobs: JobSpec[] = Array.from({ length: count }, (_, i) => ({ id: `limited-${i}`, args: ['/bin/sh', '-c', script(i)] }));
const summary: LimitedBatchSummary = {
  nofileLimit: Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]),
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
await launcher.close();
summary.leftInRuntime = (await import('../helpers.js')).runtimeContainers(launcher).length;
process.stdout.write(`${JSON.stringify(summary)}\n`);
