// Live processes by pid and by id, and what happens when the reaper hands over their exits:
// one store transaction per pass; then, off the reap pass, the exitStatus files of the pass (one
// worker task), each exit fifo's EOF and the waiters. O(1) per exit (conmon's model: exits routed
// by pid). A container's init finishes after its exec'd processes reaped in this or an earlier
// pass (containerd's order): their rows come first and the init waits for their waiters.
import { closeSync } from 'node:fs';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import { signalInInitStatus } from '../io/init-status.js';
import { Backoff } from '../io/timer.js';
import { signalName, type ReapedExit } from '../reaper/reaper.js';
import type { ExitRow, Store } from '../store/store.js';
import type { Exit, Logger } from '../types.js';

export interface LiveProcess {
  seq: number;
  id: string;
  execId: string;
  pid: number;
  /** The process directory; its paths are derived when needed (a live process stays small). */
  dir: string;
  startedAt: number;
  /** Our write end of the `exit` fifo, closed at exit so that watchers see EOF. */
  exitFd: number | null;
  /** Adopted from a launcher that died: its status is not ours to read. */
  adopted: boolean;
  /** Set while its record is not yet marked running: an exit in the pass that began tracking it carries the mark. */
  unmarked?: { pidStartTime: number } | null;
  /** Run under salvo-init: an exit code over 128 may be a signal of the command's (DESIGN §12). */
  underInit: boolean;
  /** Bytes kept of each of its log files once it has exited (0: no limit, or no log files). */
  logLimit: number;
  exited: Promise<Exit>;
  settle: (exit: Exit) => void;
}

export type FinishedHandler = (live: LiveProcess, exit: Exit) => void;
/** Writes the pass's exitStatus files off the main thread; resolves with how many could not be written. */
export type StatusWriter = (statuses: { dir: string; exitCode: number; logLimit: number }[]) => Promise<{ failed: number }>;

type Finished = [LiveProcess, Exit, ExitRow];

function key(id: string, execId: string): string {
  return `${id}\0${execId}`;
}

function isInit(live: LiveProcess): boolean {
  return live.execId === INIT_EXEC_ID;
}

/** The command's signal behind salvo-init's 128 + n, read only for such an exit (off the common path). */
function commandSignal(live: LiveProcess, exitCode: number): string | null {
  if (!live.underInit || exitCode <= 128) return null;
  const signo = signalInInitStatus(live.dir, exitCode);
  return signo === null ? null : signalName(signo);
}

export function deferredExit(): { exited: Promise<Exit>; settle: (exit: Exit) => void } {
  let settle!: (exit: Exit) => void;
  const exited = new Promise<Exit>((resolve) => (settle = resolve));
  return { exited, settle };
}

export class ExitRegistry {
  readonly #byPid = new Map<number, LiveProcess>();
  readonly #byId = new Map<string, LiveProcess>();
  readonly #finishing = new Set<Promise<void>>();
  /** Per container id: exits of exec'd processes not yet finished (exitStatus, waiters). */
  readonly #execsFinishing = new Map<string, Set<Promise<void>>>();
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #writeStatuses: StatusWriter;
  readonly #onFinished: FinishedHandler;
  /** Per pid: who waits for it to be reaped (close: reaped is enough, committed may not come). */
  readonly #reapWaiters = new Map<number, (() => void)[]>();
  /** Reaped exits the store has not committed yet (a full disk…), in reap order: retried, not reported. */
  #uncommitted: Finished[] = [];
  /** Between commit attempts while the store refuses exits: 10 ms doubling to 1 s. Not unref'd: exits wait on it, and close() ends it. */
  readonly #backoff = new Backoff(10, 1000, { unref: false });
  #failedAttempts = 0;
  /** Set by closeUncommitted: a refused commit is final from then on (no timer outlives the store). */
  #closing = false;

  constructor(store: Store, logger: Logger, writeStatuses: StatusWriter, onFinished: FinishedHandler) {
    this.#store = store;
    this.#logger = logger;
    this.#writeStatuses = writeStatuses;
    this.#onFinished = onFinished;
  }

  get size(): number {
    return this.#byPid.size;
  }

  add(live: LiveProcess): void {
    this.#byPid.set(live.pid, live);
    this.#byId.set(key(live.id, live.execId), live);
  }

  byId(id: string, execId = INIT_EXEC_ID): LiveProcess | undefined {
    return this.#byId.get(key(id, execId));
  }

  byPid(pid: number): LiveProcess | undefined {
    return this.#byPid.get(pid);
  }

  all(): LiveProcess[] {
    return [...this.#byPid.values()];
  }

  /** Resolves once this process is reaped, whether or not the store has its exit yet. */
  reaped(live: LiveProcess): Promise<void> {
    if (this.#byPid.get(live.pid) !== live) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.#reapWaiters.get(live.pid) ?? [];
      waiters.push(resolve);
      this.#reapWaiters.set(live.pid, waiters);
    });
  }

  /** The reaper's handler: commit every exit of the pass at once; the rest happens after the pass. */
  handleExits(exits: readonly ReapedExit[]): void {
    const at = Date.now();
    // Exec'd processes before inits (containerd's order), otherwise the reaper's.
    const execs: Finished[] = [];
    const inits: Finished[] = [];
    for (const reaped of exits) {
      const live = this.#byPid.get(reaped.pid);
      if (live === undefined) continue;
      const lost = reaped.kind === 'unknown' || live.adopted;
      const signal = lost ? null : (reaped.signal ?? commandSignal(live, reaped.exitCode));
      const exit: Exit = {
        id: live.id,
        recorded: true,
        execId: live.execId,
        pid: live.pid,
        state: lost ? 'lost' : 'exited',
        exitCode: lost ? 255 : reaped.exitCode,
        signal,
        rusage:
          lost || reaped.userUs === null
            ? null
            : { userMs: reaped.userUs / 1000, systemMs: (reaped.systemUs ?? 0) / 1000, maxRssKb: reaped.maxRssKb ?? 0 },
        startedAt: live.startedAt,
        exitedAt: at,
        durationMs: at - live.startedAt,
      };
      const row: ExitRow = {
        seq: live.seq,
        state: exit.state,
        exitCode: exit.exitCode,
        signal,
        userUs: lost ? null : reaped.userUs,
        systemUs: lost ? null : reaped.systemUs,
        maxRssKb: lost ? null : reaped.maxRssKb,
        at,
      };
      if (live.unmarked != null) row.started = { pid: live.pid, pidStartTime: live.unmarked.pidStartTime, at: live.startedAt };
      (isInit(live) ? inits : execs).push([live, exit, row]);
      this.#byPid.delete(live.pid);
      this.#byId.delete(key(live.id, live.execId));
      for (const wake of this.#reapWaiters.get(live.pid) ?? []) wake();
      this.#reapWaiters.delete(live.pid);
    }
    if (execs.length + inits.length === 0) return;
    this.#uncommitted.push(...execs, ...inits);
    this.#commit();
  }

  /** How many reaped exits wait for the store to take them. */
  get uncommitted(): number {
    return this.#uncommitted.length;
  }

  /**
   * Commits every exit not yet committed, in one transaction, and only then finishes them
   * (exitStatus, fifo EOF, waiters): an exit is never reported before the store has it. On failure
   * they stay queued and are tried again (backoff); the rows' WHERE keeps a retry exactly-once.
   */
  #commit(): void {
    this.#backoff.cancel();
    const pending = this.#uncommitted;
    if (pending.length === 0) return;
    const inits = pending.filter(([live]) => isInit(live));
    const finished = pending.filter(([live]) => !isInit(live)).concat(inits);
    try {
      this.#store.recordExits(finished.map(([, , row]) => row));
    } catch (error) {
      if (this.#closing) {
        this.#notRecorded(error);
        return;
      }
      this.#failedAttempts = this.#backoff.retry(() => this.#commit());
      if (this.#failedAttempts === 1) {
        this.#logger.error({ err: error, exits: finished.length }, 'cannot record exits in the store: not reported until committed; retrying');
      } else this.#logger.debug({ err: error, exits: finished.length, attempts: this.#failedAttempts }, 'still cannot record exits in the store');
      return;
    }
    if (this.#failedAttempts > 0)
      this.#logger.info({ exits: finished.length, attempts: this.#failedAttempts + 1 }, 'recorded exits that waited for the store');
    this.#uncommitted = [];
    this.#failedAttempts = 0;
    this.#backoff.succeeded();
    this.#finishAll(finished, inits);
  }

  /**
   * close(): one last commit of the exits still waiting; those the store still refuses (now or
   * later, as close goes on) are finished as not recorded (`recorded: false`, the kernel's status
   * kept), never as recorded.
   */
  closeUncommitted(): void {
    this.#closing = true;
    this.#commit();
  }

  #notRecorded(error: unknown): void {
    const left = this.#uncommitted;
    this.#uncommitted = [];
    this.#logger.error(
      { err: error, exits: left.length, ids: left.map(([live]) => live.id) },
      'the launcher closes with exits the store could not record',
    );
    for (const [live, exit] of left) this.#finish(live, { ...exit, recorded: false });
  }

  /** exitStatus files for the pass in one worker task, then (in order) each fifo's EOF and waiters. */
  #finishAll(finished: readonly Finished[], inits: readonly Finished[]): void {
    const earlierExecs = inits.flatMap(([live]) => [...(this.#execsFinishing.get(live.id) ?? [])]);
    const done = Promise.all(earlierExecs)
      .then(() => this.#writeStatuses(finished.map(([live, exit]) => ({ dir: live.dir, exitCode: exit.exitCode, logLimit: live.logLimit }))))
      .then(({ failed }) => {
        if (failed > 0) this.#logger.warn({ failed, exits: finished.length }, 'cannot write some exitStatus files');
      })
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'cannot write exitStatus files'))
      .then(() => {
        for (const [live, exit] of finished) this.#finish(live, exit);
      })
      .finally(() => {
        this.#finishing.delete(done);
        for (const [live] of finished) if (!isInit(live)) this.#forgetExecFinishing(live.id, done);
      });
    this.#finishing.add(done);
    for (const [live] of finished) {
      if (isInit(live)) continue;
      const pending = this.#execsFinishing.get(live.id) ?? new Set<Promise<void>>();
      pending.add(done);
      this.#execsFinishing.set(live.id, pending);
    }
  }

  #forgetExecFinishing(id: string, done: Promise<void>): void {
    const pending = this.#execsFinishing.get(id);
    pending?.delete(done);
    if (pending?.size === 0) this.#execsFinishing.delete(id);
  }

  /** DESIGN §3 step 5 after the commit and exitStatus: the exit fifo's EOF, then the waiters. */
  #finish(live: LiveProcess, exit: Exit): void {
    try {
      if (live.exitFd !== null) closeSync(live.exitFd);
    } catch (error) {
      this.#logger.warn({ err: error, id: live.id }, 'cannot close the exit fifo');
    }
    live.exitFd = null;
    live.settle(exit);
    try {
      this.#onFinished(live, exit);
    } catch (error) {
      this.#logger.error({ err: error, id: live.id }, 'cannot finish an exit');
    }
  }

  /** Resolves once every exit handed over so far has its exitStatus written and its waiters resolved. */
  async settled(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.all([...this.#finishing]);
  }
}
