// The child process of resource-limits.test.ts's exec case: opens a launcher, starts one
// container, leaves only FREE_FDS fds free, runs COUNT execs into it at once (each exiting i % 7),
// closes, and prints one JSON summary line. usage: node limited-exec.js RUNTIME STATE_DIR COUNT FREE_FDS
import { Launcher } from '../../src/index.js';
import { leaveFreeFds } from './fd-headroom.js';
import { closeAndReport, countResult, newSummary, stderrLogger } from './limited-summary.js';

const [runtime = 'runc', stateDir = '', countText = '200', freeText = '16'] = process.argv.slice(2);
const count = Number(countText);
const launcher = await Launcher.open({ stateDir, runtime, logger: stderrLogger });
const id = 'arch-exec-host';
const host = await launcher.start({ id, args: ['/bin/sleep', '600'] });
// Only now: the launcher and its container are up; every fd from here on counts.
const headroom = leaveFreeFds(Number(freeText));
const summary = newSummary({ nofileLimit: headroom.nofileLimit, fdsInUse: headroom.inUse, fdsFree: headroom.free, pidsMax: null });
const execs = Array.from({ length: count }, async (_, i) => {
  try {
    const proc = await launcher.exec(id, { args: ['/bin/sh', '-c', `exit ${i % 7}`], execId: `arch-exec-${i}` });
    const exit = await proc.exited;
    const right = exit.state === 'exited' && exit.exitCode === i % 7 && exit.signal === null;
    countResult(summary, right ? null : `exec ${i}: ${exit.state} ${exit.exitCode} ${exit.signal ?? ''}`, proc.timings.waitedMs);
  } catch (error) {
    countResult(summary, `exec ${i}: ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`, 0);
  }
});
await Promise.all(execs);
headroom.release();
await launcher.kill(id, 'SIGKILL');
await host.exited;
await closeAndReport(launcher, summary);
