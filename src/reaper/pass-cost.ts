// Totals of the reap passes, split where the time goes: the kernel (epoll_wait + waitid per exit)
// and the exit handler (store transaction, exitStatus hand-off, promises). O(1) per pass.
export class PassCost {
  passes = 0;
  exits = 0;
  largestPass = 0;
  reapMs = 0;
  handlerMs = 0;

  record(exits: number, reapMs: number, handlerMs: number): void {
    this.passes++;
    this.exits += exits;
    if (exits > this.largestPass) this.largestPass = exits;
    this.reapMs += reapMs;
    this.handlerMs += handlerMs;
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
  }
}
