// The runtime delete after an exit, amortized (DESIGN §5): the containers whose exits arrive
// within one short window (one reap pass, usually), or while the previous delete runs, are deleted by one
// `crun delete --force --regex '^(id1|id2|…)$'`; runc has no --regex, so it gets one delete per
// container. Deletes run at low priority, behind starts. A batch that fails falls back to one
// delete per container, so that nothing is left behind; a delete that still fails is retried with
// backoff, then left for gc.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { delay } from '../io/timer.js';
import type { Cleanup, Logger, MountHelper, RuntimeInvocation } from '../types.js';
import type { CommandResult } from '../worker/protocol.js';
import type { RuntimePool } from './pool.js';

interface PendingDelete {
  id: string;
  force: boolean;
  logFile: string;
  done: (result: CommandResult) => void;
}

// Long enough to gather the exits of one reap pass (handled in one tick), short beside a delete (~20 ms).
const BATCH_WINDOW_MS = 5;
// While starts are under way, exits gather up to this many (or this long) before one delete: a
// crun delete costs ~3.8 ms of CPU alone and ~1.2 ms per container in a regex of 37, CPU the
// starts need on a busy machine. When the starts end, what gathered goes at once.
const HOLD_BATCH = 32;
const HOLD_MAX_MS = 250;
// A delete that hangs (BATCH_TIMEOUT_MS) holds the next one back no longer than this.
const IN_FLIGHT_MAX_WAIT_MS = 5000;
// Keeps the regex, and the runtime's argv, small (ids are at most 128 characters).
const MAX_BATCH = 128;
const BATCH_TIMEOUT_MS = 60_000;
// Waits before each retry of a failed delete after an exit: five tries over about 4 s, then gc's.
const RETRY_DELAYS_MS = [100, 300, 900, 2700];

/** An id as an ERE literal: ids hold only [A-Za-z0-9_.-], of which only '.' is special. */
const literal = (id: string): string => id.replaceAll('.', '\\.');

/** The `delete` args that remove exactly these containers in one call (crun's --regex). */
export function batchDeleteArgs(ids: readonly string[]): string[] {
  return ['delete', '--force', '--regex', `^(${ids.map(literal).join('|')})$`];
}

export class DeleteBatcher {
  readonly #pool: RuntimePool;
  readonly #runtime: () => RuntimeInvocation;
  readonly #mount: () => MountHelper;
  readonly #batches: boolean;
  readonly #logger: Logger;
  #pending: PendingDelete[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Deletes of this batcher running now: the next exits wait for them and go in one call. */
  #inFlight = 0;
  /** A hurry came while a delete ran: what is pending goes when it ends. */
  #hurried = false;
  /** Runtime calls made: batched ones, and single deletes (runc, a lone exit, or a fallback). */
  readonly stats = { batches: 0, batchedContainers: 0, singles: 0, fallbacks: 0 };

  readonly #startsUnderWay: () => boolean;

  /** `batches`: whether the runtime deletes by regex (crun); `startsUnderWay`: deletes wait behind them. */
  constructor(
    pool: RuntimePool,
    runtime: () => RuntimeInvocation,
    mount: () => MountHelper,
    batches: boolean,
    logger: Logger,
    startsUnderWay: () => boolean = () => false,
  ) {
    this.#pool = pool;
    this.#startsUnderWay = startsUnderWay;
    this.#runtime = runtime;
    this.#mount = mount;
    this.#batches = batches;
    this.#logger = logger;
  }

  /** Deletes one container soon; resolves with the runtime's answer (never rejects). */
  delete(id: string, force: boolean, logFile: string): Promise<CommandResult> {
    return new Promise((done) => {
      if (!this.#batches) {
        void this.#single({ id, force, logFile, done });
        return;
      }
      this.#pending.push({ id, force, logFile, done });
      this.#schedule();
    });
  }

  /**
   * Sends a full batch now; else arms the one timer for what is pending: while a delete runs,
   * exits gather for the next one (sent when it ends, or after a bound if it hangs); behind
   * starts, for the hold; otherwise for one reap pass's window.
   */
  #schedule(): void {
    const holding = this.#startsUnderWay();
    if (this.#pending.length >= (holding ? HOLD_BATCH : MAX_BATCH)) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#inFlight > 0 ? IN_FLIGHT_MAX_WAIT_MS : holding ? HOLD_MAX_MS : BATCH_WINDOW_MS);
  }

  /** The starts ended (or one waits for a delete of its id): what gathered goes now. */
  hurry(): void {
    if (this.#pending.length === 0) return;
    if (this.#inFlight === 0) this.#flush();
    else this.#hurried = true; // sent as soon as the running delete ends, not held again
  }

  /**
   * The delete after an exit, retried with backoff while it fails (`cleanup` shows it meanwhile);
   * after the last retry, or once `stop` aborts (the launcher closes), the container is left for gc.
   */
  async deleteRetrying(id: string, force: boolean, logFile: string, cleanup: Map<string, Cleanup>, stop: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // A retry forces: whatever made the first one fail may have left processes behind.
      const result = await this.delete(id, force || attempt > 1, logFile);
      if (result.ok || /does not exist/i.test(result.error.message)) {
        cleanup.delete(id);
        return;
      }
      const retryIn = RETRY_DELAYS_MS[attempt - 1];
      const gaveUp = retryIn === undefined || stop.aborted;
      cleanup.set(id, { state: gaveUp ? 'failed' : 'pending', attempts: attempt, error: result.error.message });
      this.#logger.warn({ id, attempt, error: result.error }, gaveUp ? 'runtime delete failed: left for gc' : 'runtime delete failed: retrying');
      if (gaveUp) return;
      await delay(retryIn, stop);
    }
  }

  #flush(): void {
    this.#clearTimer();
    this.#hurried = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    this.#inFlight++;
    const deleting = batch.length === 1 ? this.#single(batch[0] as PendingDelete) : this.#batch(batch);
    void deleting.finally(() => {
      this.#inFlight--;
      if (this.#inFlight > 0 || this.#pending.length === 0) return;
      // The in-flight bound is over: behind starts (unless hurried) the gathered exits wait for the hold, else go now.
      this.#clearTimer();
      if (this.#startsUnderWay() && !this.#hurried) this.#schedule();
      else this.#flush();
    });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #batch(batch: PendingDelete[]): Promise<void> {
    const ids = batch.map((p) => p.id);
    let result: CommandResult;
    try {
      result = await this.#pool.run(
        'command',
        {
          runtime: this.#runtime(),
          args: batchDeleteArgs(ids),
          logFile: join(dirname(batch[0]?.logFile ?? '.'), 'delete-batch.log.json'),
          timeoutMs: BATCH_TIMEOUT_MS,
        },
        'low',
      );
    } catch (error) {
      result = { ok: false, runtimeExitCode: null, stdout: '', error: { code: 'ERR_RUNTIME_FAILED', message: String(error) } };
    }
    if (result.ok) {
      this.stats.batches++;
      this.stats.batchedContainers += ids.length;
      this.#logger.debug({ ids, count: ids.length }, 'deleted exited containers in one runtime call');
      await this.#releaseOverlays(batch);
      for (const pending of batch) pending.done(result);
      return;
    }
    this.stats.fallbacks++;
    this.#logger.warn({ ids, error: result.error }, 'batched runtime delete failed: deleting one by one');
    await Promise.all(batch.map((pending) => this.#single(pending)));
  }

  async #single(pending: PendingDelete): Promise<void> {
    this.stats.singles++;
    try {
      pending.done(
        await this.#pool.run(
          'delete',
          { runtime: this.#runtime(), id: pending.id, force: pending.force, logFile: pending.logFile, unmount: this.#mount() },
          'low',
        ),
      );
    } catch (error) {
      pending.done({ ok: false, runtimeExitCode: null, stdout: '', error: { code: 'ERR_RUNTIME_FAILED', message: String(error) } });
    }
  }

  /** A batch's containers from images: their overlays go once the runtime forgot them (the single delete does this itself). */
  async #releaseOverlays(batch: readonly PendingDelete[]): Promise<void> {
    const dirs = batch.map((p) => dirname(p.logFile)).filter((dir) => existsSync(join(dir, 'upper')));
    if (dirs.length === 0) return;
    await this.#pool.run('unmount', { mount: this.#mount(), dirs }, 'low').catch((error: unknown) => {
      this.#logger.warn({ err: error, dirs }, 'cannot unmount the overlays of deleted containers');
    });
  }
}
