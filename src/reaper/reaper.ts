// The reaper (DESIGN §6): this process is a child subreaper; every tracked pid has a pidfd in one
// epoll set watched from the event loop; a pass reaps exactly the tracked pids that have exited,
// each through its own pidfd (waitid P_PIDFD). Never waitpid(-1): libuv reaps its own children by pid.
import { constants } from 'node:os';
import { LatencyHistogram } from './histogram.js';
import { PassCost } from './pass-cost.js';
import { SalvoError } from '../errors.js';
import { patienceFor, patiently } from '../io/exhaustion.js';
import { readProcStat } from '../io/procfs.js';
import { KIND_NOT_CHILD, KIND_PENDING, KIND_SIGNALED, RECORD_FIELDS, native, type WatcherHandle } from '../native.js';

export interface ReapedExit {
  pid: number;
  /** 'unknown' when the process was not our child (adopted after a restart): its status is not ours. */
  kind: 'exited' | 'signaled' | 'unknown';
  /** Exit code, or 128 + signal number, or 255 when unknown. */
  exitCode: number;
  signal: string | null;
  userUs: number | null;
  systemUs: number | null;
  maxRssKb: number | null;
}

const PENDING_RETRY_MS = 20;
// crun's helper exits within milliseconds; a parent that holds a dead child this long never lets go.
const PENDING_LIMIT_MS = 60_000;

export type ExitHandler = (exits: ReapedExit[]) => void;

// First name wins: SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);

export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? `SIG${signo}`;
}

/** The exit of a process whose status cannot be known (not our child, or gone): lost, 255. */
export function unknownExit(pid: number): ReapedExit {
  return { pid, kind: 'unknown', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null };
}

/** Every pid tracked by any reaper in this thread: the orphan sweep must never take one. */
export const trackedPids = new Set<number>();

/** Decodes the addon's flat records into exits; pending ones (kind 3) go to `pending` as pid -> pidfd. */
export function decodeRecords(records: Float64Array, pending?: Map<number, number>): ReapedExit[] {
  const exits: ReapedExit[] = [];
  for (let i = 0; i < records.length; i += RECORD_FIELDS) {
    const pid = records[i] as number;
    const kind = records[i + 1] as number;
    const value = records[i + 2] as number;
    if (kind === KIND_PENDING) {
      pending?.set(pid, value);
      continue;
    }
    if (kind === KIND_NOT_CHILD) {
      exits.push(unknownExit(pid));
      continue;
    }
    const signaled = kind === KIND_SIGNALED;
    exits.push({
      pid,
      kind: signaled ? 'signaled' : 'exited',
      exitCode: signaled ? 128 + value : value,
      signal: signaled ? signalName(value) : null,
      userUs: records[i + 3] as number,
      systemUs: records[i + 4] as number,
      maxRssKb: records[i + 5] as number,
    });
  }
  return exits;
}

export class Reaper {
  readonly #watcher: WatcherHandle;
  readonly #pidfds = new Map<number, number>();
  /** Exited while still another process's child (crun's intermediate): retried until it is ours. */
  readonly #pending = new Map<number, number>();
  /** When each pending pid first came back pending: a parent that never exits must not hold it forever. */
  readonly #pendingSince = new Map<number, number>();
  /** Processes another launcher started: their exit is not ours to read, pending or not. */
  readonly #adopted = new Set<number>();
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #onSigchld = (): void => this.#retryPending();
  readonly #onExits: ExitHandler;
  #closed = false;
  /** Per exit: from the pass noticing it (pidfd readable) to its row committed. */
  readonly passLatency = new LatencyHistogram();
  /** Where the passes' time goes: reaping in the kernel (epoll + waitid) against the handler (store, promises). */
  readonly passCost = new PassCost();

  private constructor(onExits: ExitHandler) {
    this.#onExits = onExits;
    this.#watcher = native().watcherCreate(() => this.pass());
  }

  /** Makes this process a child subreaper and starts watching; exits go to `onExits`, one call per pass. */
  static open(onExits: ExitHandler): Reaper {
    const addon = native();
    try {
      addon.setChildSubreaper();
    } catch (error) {
      throw new SalvoError('ERR_SUBREAPER', `cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER): ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new Reaper(onExits);
  }

  get size(): number {
    return this.#pidfds.size;
  }

  isTracking(pid: number): boolean {
    return this.#pidfds.has(pid);
  }

  /**
   * Starts tracking pid, then runs a pass at once: a process that was already a zombie when
   * its pidfd was opened is found now. Throws ESRCH when the process no longer exists.
   */
  track(pid: number, options: { adopted?: boolean } = {}): void {
    this.#add(pid);
    if (options.adopted === true) this.#adopted.add(pid);
    this.pass();
  }

  /** Tracks many pids, then runs one pass (recovery, benchmarks). Throws at the first that is gone. */
  trackAll(pids: Iterable<number>): void {
    for (const pid of pids) this.#add(pid);
    this.pass();
  }

  #add(pid: number): void {
    if (this.#closed) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the reaper is closed');
    if (this.#pidfds.has(pid)) return;
    const pidfd = native().watcherAdd(this.#watcher, pid);
    this.#pidfds.set(pid, pidfd);
    trackedPids.add(pid);
    if (this.#pidfds.size === 1) native().watcherRef(this.#watcher, true);
  }

  /**
   * track(), waiting while no fd is free for the pidfd (EMFILE, ENFILE) instead of failing: the pid
   * is kept from the orphan sweep meanwhile, so an exit in between stays a zombie for this reaper.
   * The first try is synchronous. With `startTime` (a process this launcher did not start), the
   * pid must still be that process once its pidfd pins it: else it was reused and is not tracked.
   * Resolves with the ms waited; rejects like track (ESRCH: gone) or with ESRCH for a reused pid.
   */
  async trackPatiently(pid: number, startTime: number | null = null): Promise<number> {
    const patience = patienceFor(0);
    trackedPids.add(pid);
    try {
      await patiently(`watching pid ${pid}`, () => this.track(pid, { adopted: startTime !== null }), patience);
      if (startTime !== null && this.#pidfds.has(pid)) {
        const now = await patiently(`reading /proc/${pid}/stat`, () => readProcStat(pid), patience);
        if (now?.startTime !== startTime) {
          this.untrack(pid);
          throw Object.assign(new Error(`pid ${pid} now belongs to another process (start time differs)`), { code: 'ESRCH' });
        }
      }
    } catch (error) {
      if (!this.#pidfds.has(pid)) trackedPids.delete(pid);
      throw error;
    }
    return patience.waitedMs;
  }

  /** Stops tracking without reaping (the pid stays a zombie for someone else to collect). */
  untrack(pid: number): void {
    const pidfd = this.#pidfds.get(pid);
    if (pidfd === undefined) return;
    this.#pending.delete(pid);
    native().watcherRemove(this.#watcher, pidfd);
    this.#forget(pid);
  }

  /** Reaps every tracked pid that has exited; hands them to the handler in one call. */
  pass(): number {
    if (this.#closed) return 0;
    const sched = this.passCost.begin();
    const began = performance.now();
    const records = native().watcherReap(this.#watcher);
    if (records.length === 0) return 0;
    const reaped = performance.now();
    const exits = decodeRecords(records, this.#pending);
    if (this.#pending.size > 0) exits.push(...this.#givenUp());
    if (this.#pending.size > 0) this.#scheduleRetry();
    if (exits.length === 0) return 0;
    for (const exit of exits) this.#forget(exit.pid);
    this.#onExits(exits);
    // The handler commits synchronously: this is noticed-to-committed for every exit of the pass.
    const committed = performance.now();
    this.passLatency.record(committed - began, exits.length);
    this.passCost.record(exits.length, reaped - began, committed - reaped, sched);
    return exits.length;
  }

  /**
   * Pending processes that will not become ours: adopted ones (their parent is whoever took them
   * when the old launcher died, and their status is not ours anyway) and any still pending after
   * PENDING_LIMIT_MS. They exited: their status is unknown, so they end as 'unknown' (lost, 255).
   */
  #givenUp(): ReapedExit[] {
    const now = Date.now();
    const exits: ReapedExit[] = [];
    for (const [pid, pidfd] of this.#pending) {
      const since = this.#pendingSince.get(pid) ?? now;
      this.#pendingSince.set(pid, since);
      if (!this.#adopted.has(pid) && now - since < PENDING_LIMIT_MS) continue;
      this.#pending.delete(pid);
      this.#pendingSince.delete(pid);
      native().closeFd(pidfd);
      exits.push(unknownExit(pid));
    }
    return exits;
  }

  /** The zombie becomes our child when its parent exits (SIGCHLD), or we look again shortly. */
  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined) return;
    if (this.#pending.size > 0) process.on('SIGCHLD', this.#onSigchld);
    this.#retryTimer = setTimeout(() => this.#retryPending(), PENDING_RETRY_MS);
  }

  #retryPending(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    process.off('SIGCHLD', this.#onSigchld);
    if (this.#closed) return;
    for (const [pid, pidfd] of this.#pending) native().watcherRetry(this.#watcher, pid, pidfd);
    this.#pending.clear();
    this.pass();
  }

  #forget(pid: number): void {
    this.#adopted.delete(pid);
    this.#pendingSince.delete(pid);
    this.#pidfds.delete(pid);
    trackedPids.delete(pid);
    if (this.#pidfds.size === 0 && !this.#closed) native().watcherRef(this.#watcher, false);
  }

  close(): void {
    if (this.#closed) return;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    process.off('SIGCHLD', this.#onSigchld);
    // untrack closes pending pidfds too (they are out of the epoll set already).
    for (const pid of [...this.#pidfds.keys()]) this.untrack(pid);
    this.#closed = true;
    native().watcherClose(this.#watcher);
  }
}
