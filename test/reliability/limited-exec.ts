// The child process of resource-limits.test.ts's exec case: opens a launcher, starts one
// container, leaves only FREE_FDS fds free, runs COUNT execs into it at once (each exiting i % 7),
// closes, and prints one JSON summary line. usage: node limited-exec.js RUNTIME STATE_DIR COUNT FREE_FDS
import { Launcher } from '../../src/index.js';
import { leaveFreeFds } from './fd-headroom.js';
import type { LimitedBatchSummary } from './limited-batch.js';

const [runtime = 'runc', stateDir = '', countText = '200', freeText = '16'] = process.argv.slice(2);
const count = Number(countText);
const say =
  (level: string) =>
  (obj: object, msg?: string): void =>
    void process.stderr.write(`${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
const logger = { debug: () => undefined, info: () => undefined, warn: say('warn'), error: say('error') };
const launcher = await Launcher.open({ stateDir, runtime, logger });
const id = 'arch-exec-host';
const host = await launcher.start({ id, args: ['/bin/sleep', '600'] });
// Only now: the launcher and its container are up; every fd from here on counts.
const headroom = leaveFreeFds(Number(freeText));
const summary: LimitedBatchSummary = {
  nofileLimit: headroom.nofileLimit,
  fdsInUse: headroom.inUse,
  fdsFree: headroom.free,
  pidsMax: null,
  results: 0,
  exitedRight: 0,
  notRight: [],
  waitedJobs: 0,
  waitedMsTotal: 0,
  waitedMsMax: 0,
  leftInRuntime: 0,
};
const execs = Array.from({ length: count }, async (_, i) => {
  try {
    const proc = await launcher.exec(id, { args: ['/bin/sh', '-c', `exit ${i % 7}`], execId: `arch-exec-${i}` });
    const exit = await proc.exited;
    if (exit.state === 'exited' && exit.exitCode === i % 7 && exit.signal === null) summary.exitedRight++;
    else summary.notRight.push(`exec ${i}: ${exit.state} ${exit.exitCode} ${exit.signal ?? ''}`);
    if (proc.timings.waitedMs > 0) summary.waitedJobs++;
    summary.waitedMsTotal += proc.timings.waitedMs;
    summary.waitedMsMax = Math.max(summary.waitedMsMax, proc.timings.waitedMs);
  } catch (error) {
    summary.notRight.push(`exec ${i}: ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`);
  } finally {
    summary.results++;
  }
});
await Promise.all(execs);
headroom.release();
await launcher.kill(id, 'SIGKILL');
await host.exited;
await launcher.close();
summary.leftInRuntime = (await import('../helpers.js')).runtimeContainers(launcher).length;
process.stdout.write(`${JSON.stringify(summary)}\n`);
