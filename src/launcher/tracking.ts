// From the spawn on (DESIGN §3 steps 4-6): a launched or adopted process tracked (registry,
// reaper, its exit fifo's writer), its exit's exitStatus file, and the runtime's delete after the
// exit, batched where the runtime allows it; failed deletes kept for list() and gc.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { patienceFor, patiently } from '../io/exhaustion.js';
import { logsWithinLimit } from '../io/log-tail.js';
import { INIT_EXEC_ID, writeExitStatusesNow } from '../io/process-dir.js';
import { Reaper, unknownExit } from '../reaper/reaper.js';
import type { Store } from '../store/store.js';
import type { Cleanup, Exit } from '../types.js';
import type { ExitStatusTask } from '../worker/protocol.js';
import type { DeleteBatcher } from './delete-batch.js';
import { ExitRegistry, deferredExit, type LiveProcess } from './exit-registry.js';
import type { NormalizedOptions } from './options.js';
import type { RuntimePool } from './pool.js';

// Up to this many exitStatus files of one reap pass are written on the main thread (a burst goes to a worker).
const STATUSES_WRITTEN_HERE = 8;

export class Tracking {
  readonly registry: ExitRegistry;
  readonly reaper: Reaper;
  /** Containers whose delete after their exit failed: retried, then left for gc; list() and get() show it. */
  readonly cleanup = new Map<string, Cleanup>();
  /** Pending `runtime delete` per container id: a new start of that id and close wait for it. */
  readonly deletes = new Map<string, Promise<void>>();
  readonly #store: Store;
  readonly #pool: RuntimePool;
  readonly #options: NormalizedOptions;
  /** The delete after an exit (set with the runtime, before any launch). */
  readonly #deleteBatcher: () => DeleteBatcher;
  /** Aborted by close: a delete's retries stop. */
  readonly #closing: AbortSignal;

  constructor(store: Store, pool: RuntimePool, options: NormalizedOptions, deleteBatcher: () => DeleteBatcher, closing: AbortSignal) {
    this.#store = store;
    this.#pool = pool;
    this.#options = options;
    this.#deleteBatcher = deleteBatcher;
    this.#closing = closing;
    this.registry = new ExitRegistry(
      store,
      options.logger,
      (statuses) => this.#writeStatuses(statuses),
      (live, exit) => this.#afterExit(live, exit),
    );
    this.reaper = Reaper.open((exits) => this.registry.handleExits(exits));
  }

  /**
   * A pass's exitStatus files: a few are written here at once (a link(2) each costs less than a
   * worker round trip); a large pass, a log over its limit (cut to its tail first: a copy), and any
   * file that must wait for a free fd, go to a worker.
   */
  #writeStatuses(statuses: ExitStatusTask['statuses']): Promise<{ failed: number }> {
    if (statuses.length > STATUSES_WRITTEN_HERE) return this.#pool.run('exit-status', { statuses }, 'high');
    const overLimit = statuses.filter((s) => s.logLimit > 0 && !logsWithinLimit(s.dir, s.logLimit));
    const waiting = writeExitStatusesNow(statuses.filter((s) => !overLimit.includes(s)));
    const rest = [...overLimit, ...waiting.statuses];
    if (rest.length === 0) return Promise.resolve({ failed: waiting.failed });
    return this.#pool.run('exit-status', { statuses: rest }, 'high').then(({ failed }) => ({ failed: failed + waiting.failed }));
  }

  /**
   * DESIGN §3 step 4: the record says running, the pidfd joins the epoll set, a pass runs at once.
   * `watched` resolves with the ms spent waiting for fds to watch it (EMFILE), for the start's timings.
   */
  track(
    seq: number,
    id: string,
    execId: string,
    pid: number,
    pidStartTime: number,
    dir: string,
    adopted: boolean,
    underInit = false,
    logLimit = 0,
  ): { live: LiveProcess; watched: Promise<number> } {
    const startedAt = Date.now();
    const { exited, settle } = deferredExit();
    const unmarked = adopted ? null : { pidStartTime };
    const live: LiveProcess = { seq, id, execId, pid, dir, startedAt, exitFd: null, adopted, unmarked, underInit, logLimit, exited, settle };
    this.registry.add(live);
    const openingExitFifo = this.#openExitFifo(live);
    const watching = this.reaper.trackPatiently(pid, adopted ? pidStartTime : null).catch((error: unknown) => {
      // ESRCH: it is gone and was not ours to reap; its status cannot be known.
      this.#options.logger.warn({ err: error, id, initPid: pid }, 'tracked process vanished');
      this.registry.handleExits([unknownExit(pid)]);
      return 0;
    });
    // Still live after the pass that began tracking it: marked running now (a quick exit carried the mark: one transaction).
    if (live.unmarked != null && this.registry.byPid(pid) === live) this.#markRunning(seq, pid, pidStartTime, startedAt);
    live.unmarked = null;
    return { live, watched: Promise.all([openingExitFifo, watching]).then(([a, b]) => a + b) };
  }

  /** A refused write (a full disk) leaves the record `subscribed`: its exit commit (or recovery) still resolves it. */
  #markRunning(seq: number, pid: number, pidStartTime: number, startedAt: number): void {
    try {
      this.#store.markRunning(seq, pid, pidStartTime, startedAt);
    } catch (error) {
      this.#options.logger.warn({ err: error, seq, initPid: pid }, 'cannot mark the record running; its exit will still be recorded');
    }
  }

  /**
   * Holds the exit fifo's writer while the process lives, so that a watcher sees EOF at exit.
   * O_RDWR never blocks on a fifo. Out of fds, waits (the first try is synchronous); resolves with the wait.
   */
  async #openExitFifo(live: LiveProcess): Promise<number> {
    const patience = patienceFor(0);
    const stillLive = (): boolean => this.registry.byPid(live.pid) === live;
    try {
      const fd = await patiently(
        'opening the exit fifo',
        () => (stillLive() ? openSync(join(live.dir, 'exit'), constants.O_RDWR | constants.O_NONBLOCK) : null),
        patience,
      );
      if (fd !== null && stillLive()) live.exitFd = fd;
      else if (fd !== null) closeSync(fd); // it exited while we waited
    } catch (error) {
      this.#options.logger.warn({ err: error, id: live.id }, 'cannot open the exit fifo');
    }
    return patience.waitedMs;
  }

  /** A runtime delete in flight: a new start of the id and close() wait for it; it forgets itself when done. */
  noteDelete(id: string, deletion: Promise<void>): void {
    const noted: Promise<void> = deletion.finally(() => {
      if (this.deletes.get(id) === noted) this.deletes.delete(id);
    });
    this.deletes.set(id, noted);
  }

  /** DESIGN §3 step 6: the runtime forgets the container; the record stays as history. */
  #afterExit(live: LiveProcess, exit: Exit): void {
    if (live.execId !== INIT_EXEC_ID || !this.#options.deleteAfterExit) return;
    const force = exit.signal !== null || exit.state === 'lost';
    const logFile = join(live.dir, 'delete.log.json');
    this.noteDelete(live.id, this.#deleteBatcher().deleteRetrying(live.id, force, logFile, this.cleanup, this.#closing));
  }
}
