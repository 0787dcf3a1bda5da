// Totals of the reap passes, split where the time goes: the kernel (epoll_wait + waitid per exit)
// and the exit handler (store transaction, exitStatus hand-off, promises). O(1) per pass. With
// `scheduling` on (benchmarks), each pass also reads the thread's schedstat: of its wall time, how
// much the main thread spent on a CPU and how much waiting for one.
import { readThreadSchedstat, type Schedstat } from '../io/procfs.js';

export class PassCost {
  scheduling = false;
  passes = 0;
  exits = 0;
  largestPass = 0;
  reapMs = 0;
  handlerMs = 0;
  onCpuMs = 0;
  waitingForCpuMs = 0;

  /** A snapshot to hand back to record() when scheduling is measured, else null (no syscall). */
  begin(): Schedstat | null {
    return this.scheduling ? readThreadSchedstat() : null;
  }

  record(exits: number, reapMs: number, handlerMs: number, before: Schedstat | null = null): void {
    this.passes++;
    this.exits += exits;
    if (exits > this.largestPass) this.largestPass = exits;
    this.reapMs += reapMs;
    this.handlerMs += handlerMs;
    const after = before === null ? null : readThreadSchedstat();
    if (before !== null && after !== null) {
      this.onCpuMs += (after.onCpuNs - before.onCpuNs) / 1e6;
      this.waitingForCpuMs += (after.waitingNs - before.waitingNs) / 1e6;
    }
  }

  /** Mean µs per exit spent reaping (waitid) and in the handler. */
  perExitUs(): { reap: number; handler: number } {
    const n = Math.max(1, this.exits);
    return { reap: (this.reapMs * 1000) / n, handler: (this.handlerMs * 1000) / n };
  }

  reset(): void {
    this.passes = 0;
    this.exits = 0;
    this.largestPass = 0;
    this.reapMs = 0;
    this.handlerMs = 0;
    this.onCpuMs = 0;
    this.waitingForCpuMs = 0;
  }
}
