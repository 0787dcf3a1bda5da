// A container's salvo-init is pid 1 of its pid namespace, where the kernel drops every signal from
// outside that finds no handler. The runtime returns from run -d before its init has exec'd
// salvo-init, and salvo-init blocks signals only once it runs: a SIGTERM sent in between (by a
// caller right after `started`) would be lost and the container would run on. So a start under
// salvo-init is reported once salvo-init holds signals (DESIGN §12).
import { INIT_PATH } from '../bundle/init.js';
import { readProcStat, type ProcStat } from '../io/procfs.js';
import { delay } from '../io/timer.js';
import { now } from '../time.js';

/** The kernel's name of salvo-init's process: the basename of where it is mounted. */
export const INIT_COMM = INIT_PATH.slice(INIT_PATH.lastIndexOf('/') + 1);

const SIGTERM_BIT = 1 << (15 - 1);

/** salvo-init runs and has blocked signals (they queue for it), or the process has already ended. */
export function initHoldsSignals(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X' || (stat.comm === INIT_COMM && (stat.blockedSignals & SIGTERM_BIT) !== 0);
}

/**
 * Waits (polling /proc, 1 ms doubling to 16 ms) until the process `pid` started at `startTime`
 * holds signals or is gone. Returns false when `limitMs` passed first (a stopped or frozen init):
 * the start is reported anyway, as the runtime succeeded.
 */
export async function waitUntilInitHoldsSignals(pid: number, first: ProcStat, limitMs: number): Promise<boolean> {
  if (initHoldsSignals(first)) return true;
  const began = now();
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 16)) {
    if (now() - began >= limitMs) return false;
    await delay(waitMs);
    let stat: ProcStat | null;
    try {
      stat = readProcStat(pid);
    } catch {
      continue; // no fd free (EMFILE): look again after the next wait
    }
    if (stat === null || stat.startTime !== first.startTime || initHoldsSignals(stat)) return true;
  }
}
