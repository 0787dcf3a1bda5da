// The orphan sweep (DESIGN §6): zombies re-parented to this subreaper that nobody tracks
// (a runtime crash, a double-forked daemon) are reaped after a grace period and reported.
// A runtime's own helper (crun's detach fork, whose session is the crun CLI we ran) is
// reaped at once and not reported: it is no orphan of a container.
// Only the main thread's children are considered: a worker's own runtime children are
// children of the worker thread and never appear there; libuv's main-thread children are
// reaped by libuv long before the grace period ends.
import { listMainThreadChildren, readProcStat, type ProcStat } from '../io/procfs.js';
import { native } from '../native.js';
import { decodeRecords, trackedPids, type ReapedExit } from './reaper.js';
import { startTimer, type Timer } from '../io/timer.js';

// Orphans are rare and wait out a grace period anyway: a sweep (O(children)) once a second is plenty.
const THROTTLE_MS = 1000;

export type OrphanHandler = (orphans: ReapedExit[]) => void;
export type HelperTest = (stat: ProcStat) => boolean;

export class OrphanSweeper {
  readonly #graceMs: number;
  readonly #onOrphans: OrphanHandler;
  readonly #isRuntimeHelper: HelperTest;
  /** Runtime helpers reaped so far. */
  helpersReaped = 0;
  /** Untracked zombies seen, with when they were first seen: pid -> (start time, ms). */
  readonly #seen = new Map<number, { startTime: number; since: number }>();
  #timer: Timer | undefined;
  #due = 0;
  #lastSweep = 0;
  /** After stop(): no timer may be armed again (the store the handler writes to is closing). */
  #stopped = false;
  readonly #onSignal = (): void => this.schedule();

  constructor(graceMs: number, onOrphans: OrphanHandler, isRuntimeHelper: HelperTest = () => false) {
    this.#graceMs = graceMs;
    this.#onOrphans = onOrphans;
    this.#isRuntimeHelper = isRuntimeHelper;
  }

  start(): void {
    this.#stopped = false;
    process.on('SIGCHLD', this.#onSignal);
  }

  stop(): void {
    this.#stopped = true;
    process.off('SIGCHLD', this.#onSignal);
    this.#timer?.clear();
    this.#timer = undefined;
  }

  /**
   * The last sweeps before the launcher closes: stops, then sweeps until every zombie seen has
   * served its grace period and been reaped, so that none is left behind (waits at most the grace).
   */
  async drain(): Promise<void> {
    this.stop();
    for (;;) {
      this.sweep();
      if (this.#seen.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(THROTTLE_MS, this.#graceMs))));
    }
  }

  /** Sweeps soon; sweeps are throttled so that their O(children) cost is not paid per exit. */
  schedule(delayMs?: number): void {
    if (this.#stopped) return;
    const throttle = Math.min(THROTTLE_MS, this.#graceMs);
    const wait = Math.max(delayMs ?? 0, this.#lastSweep + throttle - Date.now(), 0);
    const due = Date.now() + wait;
    if (this.#timer !== undefined) {
      if (this.#due <= due) return;
      this.#timer.clear();
    }
    this.#due = due;
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      this.sweep();
    }, wait);
  }

  /** One sweep; returns the orphans it reaped. */
  sweep(now = Date.now()): ReapedExit[] {
    this.#lastSweep = now;
    const zombies = new Set<number>();
    for (const pid of listMainThreadChildren()) {
      if (trackedPids.has(pid)) continue;
      let stat: ProcStat | null;
      try {
        stat = readProcStat(pid);
      } catch {
        this.schedule(THROTTLE_MS); // no fd free to read /proc: look again soon
        continue;
      }
      if (stat === null || stat.state !== 'Z') continue;
      if (this.#isRuntimeHelper(stat)) {
        this.#seen.delete(pid);
        if (reap(pid) !== null) this.helpersReaped++;
        continue;
      }
      zombies.add(pid);
      const seen = this.#seen.get(pid);
      if (seen === undefined || seen.startTime !== stat.startTime) {
        this.#seen.set(pid, { startTime: stat.startTime, since: now });
      }
    }
    const reaped: ReapedExit[] = [];
    for (const [pid, seen] of this.#seen) {
      if (!zombies.has(pid)) {
        this.#seen.delete(pid); // someone else reaped it (libuv)
        continue;
      }
      if (now - seen.since < this.#graceMs || trackedPids.has(pid)) continue;
      this.#seen.delete(pid);
      const record = reap(pid);
      if (record !== null) reaped.push(...decodeRecords(record));
    }
    if (this.#seen.size > 0) this.schedule(Math.min(THROTTLE_MS, this.#graceMs));
    if (reaped.length > 0) this.#onOrphans(reaped);
    return reaped;
  }
}

function reap(pid: number): Float64Array | null {
  try {
    return native().waitPid(pid);
  } catch {
    return null; // ECHILD: taken by libuv in the meantime
  }
}
