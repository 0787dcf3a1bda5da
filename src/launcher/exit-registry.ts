// Live processes by pid and by id, and what happens when the reaper hands over their exits:
// one store transaction per pass, then per process exitStatus, the exit fifo, the waiters.
// Everything here is O(1) per exit (conmon's model: exits routed by pid).
import { closeSync } from 'node:fs';
import type { ReapedExit } from '../reaper/reaper.js';
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
  exited: Promise<Exit>;
  settle: (exit: Exit) => void;
}

export type FinishedHandler = (live: LiveProcess, exit: Exit) => void;
/** Writes exitStatus files (atomically, each) off the main thread. */
export type StatusWriter = (statuses: { dir: string; exitCode: number }[]) => Promise<void>;

function key(id: string, execId: string): string {
  return `${id}\0${execId}`;
}

export function deferredExit(): { exited: Promise<Exit>; settle: (exit: Exit) => void } {
  let settle!: (exit: Exit) => void;
  const exited = new Promise<Exit>((resolve) => (settle = resolve));
  return { exited, settle };
}

export class ExitRegistry {
  readonly #byPid = new Map<number, LiveProcess>();
  readonly #byId = new Map<string, LiveProcess>();
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #onFinished: FinishedHandler;
  readonly #writeStatuses: StatusWriter;
  readonly #finishing = new Set<Promise<void>>();

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

  byId(id: string, execId = 'init'): LiveProcess | undefined {
    return this.#byId.get(key(id, execId));
  }

  byPid(pid: number): LiveProcess | undefined {
    return this.#byPid.get(pid);
  }

  all(): LiveProcess[] {
    return [...this.#byPid.values()];
  }

  /** The reaper's handler: commit every exit of the pass at once, then finish each process. */
  handleExits(exits: readonly ReapedExit[]): void {
    const at = Date.now();
    const rows: ExitRow[] = [];
    const finished: [LiveProcess, Exit][] = [];
    for (const reaped of exits) {
      const live = this.#byPid.get(reaped.pid);
      if (live === undefined) continue;
      const lost = reaped.kind === 'unknown' || live.adopted;
      const exit: Exit = {
        id: live.id,
        execId: live.execId,
        pid: live.pid,
        state: lost ? 'lost' : 'exited',
        exitCode: lost ? 255 : reaped.exitCode,
        signal: lost ? null : reaped.signal,
        rusage:
          lost || reaped.userUs === null
            ? null
            : { userMs: reaped.userUs / 1000, systemMs: (reaped.systemUs ?? 0) / 1000, maxRssKb: reaped.maxRssKb ?? 0 },
        startedAt: live.startedAt,
        exitedAt: at,
        durationMs: at - live.startedAt,
      };
      rows.push({
        seq: live.seq,
        state: exit.state,
        exitCode: exit.exitCode,
        signal: exit.signal,
        userUs: lost ? null : reaped.userUs,
        systemUs: lost ? null : reaped.systemUs,
        maxRssKb: lost ? null : reaped.maxRssKb,
        at,
      });
      finished.push([live, exit]);
      this.#byPid.delete(live.pid);
      this.#byId.delete(key(live.id, live.execId));
    }
    try {
      this.#store.recordExits(rows);
    } catch (error) {
      this.#logger.error({ err: error, exits: rows.length }, 'cannot record exits in the store');
    }
    // Committed: the rest (files, fifos, waiters) happens off the reap pass.
    if (finished.length > 0) this.#finishAll(finished);
  }

  /** exitStatus files for the whole pass in one worker task, then each fifo's EOF, then waiters. */
  #finishAll(finished: [LiveProcess, Exit][]): void {
    const done = this.#writeStatuses(finished.map(([live, exit]) => ({ dir: live.dir, exitCode: exit.exitCode })))
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'cannot write exitStatus files'))
      .then(() => {
        for (const [live, exit] of finished) this.#finish(live, exit);
      })
      .finally(() => this.#finishing.delete(done));
    this.#finishing.add(done);
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
