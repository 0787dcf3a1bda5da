// A failed start's record: `failed` in the store. The start's failure is the caller's result
// whatever happens here; when the store refuses the write (a full disk) it is retried with
// backoff, so the record does not stay `subscribed` once there is room again.
import { Backoff } from '../io/timer.js';
import type { FailureRow, Store } from '../store/store.js';
import type { Logger } from '../types.js';

export class FailureWriter {
  readonly #store: Store;
  readonly #logger: Logger;
  /** Failures the store has not taken yet, oldest first. */
  readonly #unwritten: FailureRow[] = [];
  readonly #backoff = new Backoff(10, 1000);
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
    this.#backoff.cancel();
    while (this.#unwritten.length > 0) {
      try {
        this.#store.markFailed(this.#unwritten[0] as FailureRow); // idempotent: a final record is left alone
      } catch (error) {
        if (this.#closed) return; // close() reports what is left; no timer outlives the store
        if (this.#backoff.retry(() => this.#flush()) === 1)
          this.#logger.error({ err: error, records: this.#unwritten.length }, 'cannot mark failed starts in the store; retrying');
        return;
      }
      this.#unwritten.shift();
    }
    this.#backoff.succeeded();
  }

  /** close(): a last try; records still unwritten stay `subscribed` for the next launcher's recovery (`lost`). */
  close(): void {
    this.#flush();
    this.#closed = true;
    this.#backoff.cancel();
    if (this.#unwritten.length > 0) {
      this.#logger.error({ seqs: this.#unwritten.map((r) => r.seq) }, 'the launcher closes with failed starts the store could not mark');
    }
  }
}
