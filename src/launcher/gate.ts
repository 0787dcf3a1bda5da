// A counting semaphore: at most `capacity` holders at once, waiters served in order.
import { SalvoError } from '../errors.js';

export class Gate {
  #free: number;
  readonly #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(capacity: number) {
    this.#free = capacity;
  }

  /** Resolves once a slot is held; rejects with ERR_ABORTED if `signal` fires while waiting. */
  acquire(signal: AbortSignal | null = null): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new SalvoError('ERR_ABORTED', 'aborted while waiting to start'));
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new SalvoError('ERR_ABORTED', 'aborted while waiting to start'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next.resolve();
    else this.#free++;
  }
}
