// The reaper (DESIGN §6): this process is a child subreaper; every tracked pid has a pidfd in one
// epoll set watched from the event loop; a pass reaps exactly the tracked pids that have exited,
// each by its own pid. Never waitpid(-1): libuv reaps its own children by pid.
import { constants } from 'node:os';
import { SalvoError } from '../errors.js';
import { patienceFor, patiently } from '../io/exhaustion.js';
import { readProcStat } from '../io/procfs.js';
import { KIND_EXITED, KIND_NOT_CHILD, KIND_SIGNALED, RECORD_FIELDS, native, type WatcherHandle } from '../native.js';

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

export type ExitHandler = (exits: ReapedExit[]) => void;

// First name wins: SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);

export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? `SIG${signo}`;
}

/** Every pid tracked by any reaper in this thread: the orphan sweep must never take one. */
export const trackedPids = new Set<number>();

/** Decodes the addon's flat records into exits. */
export function decodeRecords(records: Float64Array): ReapedExit[] {
  const exits: ReapedExit[] = [];
  for (let i = 0; i < records.length; i += RECORD_FIELDS) {
    const pid = records[i] as number;
    const kind = records[i + 1] as number;
    const value = records[i + 2] as number;
    if (kind === KIND_NOT_CHILD) {
      exits.push({ pid, kind: 'unknown', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null });
      continue;
    }
    const signaled = kind === KIND_SIGNALED;
    exits.push({
      pid,
      kind: signaled ? 'signaled' : kind === KIND_EXITED ? 'exited' : 'unknown',
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
  readonly #onExits: ExitHandler;
  #closed = false;

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
      throw new SalvoError(
        'ERR_SUBREAPER',
        `cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER): ${(error as Error).message}`,
        { cause: error },
      );
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
  track(pid: number): void {
    if (this.#closed) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the reaper is closed');
    if (this.#pidfds.has(pid)) return;
    const pidfd = native().watcherAdd(this.#watcher, pid);
    this.#pidfds.set(pid, pidfd);
    trackedPids.add(pid);
    if (this.#pidfds.size === 1) native().watcherRef(this.#watcher, true);
    this.pass();
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
      await patiently(`watching pid ${pid}`, () => this.track(pid), patience);
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
    native().watcherRemove(this.#watcher, pidfd);
    this.#forget(pid);
  }

  /** Reaps every tracked pid that has exited; hands them to the handler in one call. */
  pass(): number {
    if (this.#closed) return 0;
    const records = native().watcherReap(this.#watcher);
    if (records.length === 0) return 0;
    const exits = decodeRecords(records);
    for (const exit of exits) this.#forget(exit.pid);
    this.#onExits(exits);
    return exits.length;
  }

  #forget(pid: number): void {
    this.#pidfds.delete(pid);
    trackedPids.delete(pid);
    if (this.#pidfds.size === 0 && !this.#closed) native().watcherRef(this.#watcher, false);
  }

  close(): void {
    if (this.#closed) return;
    for (const pid of [...this.#pidfds.keys()]) this.untrack(pid);
    this.#closed = true;
    native().watcherClose(this.#watcher);
  }
}
