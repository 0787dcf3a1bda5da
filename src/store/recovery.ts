// Recovery planning (DESIGN §7): what to do with records an earlier launcher left unresolved.
// Pure: the caller passes how to read a process's start time and a process directory's pid file.
import type { UnresolvedRecord } from './store.js';

export type RecoveryAction =
  /** The same process (pid + start time) still runs: watch it; it ends `lost` (255) when it exits. */
  | { kind: 'adopt'; record: UnresolvedRecord; pid: number; pidStartTime: number }
  /** Nothing of it runs any more (or its pid now belongs to another process): `lost` now. */
  | { kind: 'lost'; record: UnresolvedRecord; reason: string };

export interface RecoveryProbe {
  /** Start time (clock ticks since boot) of a live pid, or null when no such process. */
  startTimeOf(pid: number): number | null;
  /** The pid the runtime wrote in a process directory, or null. */
  pidFileOf(dir: string): number | null;
  /** Wall-clock ms of a start time in clock ticks. */
  ticksToEpochMs(ticks: number): number;
}

export function planRecovery(records: readonly UnresolvedRecord[], probe: RecoveryProbe): RecoveryAction[] {
  return records.map((record): RecoveryAction => {
    if (record.state === 'running' && record.pid !== null) {
      const startTime = probe.startTimeOf(record.pid);
      if (startTime === null) return { kind: 'lost', record, reason: 'the process ended while no launcher watched it' };
      if (startTime !== record.pidStartTime) {
        return { kind: 'lost', record, reason: `pid ${record.pid} now belongs to another process (start time differs)` };
      }
      return { kind: 'adopt', record, pid: record.pid, pidStartTime: startTime };
    }
    // Subscribed: the launcher died during the start; the runtime may have got as far as the pid file.
    const pid = probe.pidFileOf(record.dir);
    if (pid !== null) {
      const startTime = probe.startTimeOf(pid);
      // Only a process that started after the subscription can be this record's (pid reuse).
      const slackMs = 1000; // boot time has one-second resolution
      if (startTime !== null && probe.ticksToEpochMs(startTime) >= record.subscribedAt - slackMs) {
        return { kind: 'adopt', record, pid, pidStartTime: startTime };
      }
    }
    return { kind: 'lost', record, reason: 'the launcher stopped during the start; no process of it runs' };
  });
}
