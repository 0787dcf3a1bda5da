// A failed start's record: `failed` in the store. The start's failure is the caller's result
// whatever happens here; when the store refuses the write (a full disk) it is retried with
// backoff, so the record does not stay `subscribed` once there is room again.
import { startTimer, type Timer } from '../io/timer.js';
import type { FailureRow, Store } from '../store/store.js';
import type { Logger } from '../types.js';

const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 1000;

export class FailureWriter {
  readonly #store: Store;
  readonly #logger: Logger;
  /** Failures the store has not taken yet, oldest first. */
  readonly #unwritten: FailureRow[] = [];
  #retry: Timer | null = null;
  #retryMs = 0;
  #closed = false;

  constructor(store: Store, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Marks the record failed now, or as soon as the store takes it; never throws. */
  write(row: FailureRow): void {
    this.#unwritten.push(row);
    this.#flush();
  }

  get unwritten(): number {
    return this.#unwritten.length;
  }

  #flush(): void {
    this.#retry?.clear();
    this.#retry = null;
    while (this.#unwritten.length > 0) {
      try {
        this.#store.markFailed(this.#unwritten[0] as FailureRow); // idempotent: a final record is left alone
      } catch (error) {
        if (this.#closed) return; // close() reports what is left; no timer outlives the store
        if (this.#retryMs === 0)
          this.#logger.error({ err: error, records: this.#unwritten.length }, 'cannot mark failed starts in the store; retrying');
        this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs === 0 ? RETRY_FIRST_MS : this.#retryMs * 2);
        this.#retry = startTimer(() => this.#flush(), this.#retryMs);
        return;
      }
      this.#unwritten.shift();
    }
    this.#retryMs = 0;
  }

  /** close(): a last try; records still unwritten stay `subscribed` for the next launcher's recovery (`lost`). */
  close(): void {
    this.#flush();
    this.#closed = true;
    this.#retry?.clear();
    this.#retry = null;
    if (this.#unwritten.length > 0) {
      this.#logger.error({ seqs: this.#unwritten.map((r) => r.seq) }, 'the launcher closes with failed starts the store could not mark');
    }
  }
}
