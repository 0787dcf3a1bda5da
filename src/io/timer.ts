// The one timer helper: Node turns a delay of 2^31 ms (24.8 days) or more into 1 ms, so a
// timeout of 30 days would fire at once. Every delay a user can give goes through here; longer
// ones are chained in steps below the limit.

/** The longest delay one Node timer keeps (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Timer {
  /** Stops it; calling it after it fired, or twice, does nothing. */
  clear(): void;
}

/**
 * Calls `fn` once after `ms` (any finite delay ≥ 0). With unref (default true) the timer does not
 * keep the process alive, as the callers' own work does that.
 */
export function startTimer(fn: () => void, ms: number, options: { unref?: boolean } = {}): Timer {
  const unref = options.unref ?? true;
  let handle: NodeJS.Timeout | null = null;
  const arm = (remaining: number): void => {
    const step = Math.min(Math.max(remaining, 0), MAX_TIMER_MS);
    handle = setTimeout(() => {
      if (remaining > step) arm(remaining - step);
      else {
        handle = null;
        fn();
      }
    }, step);
    if (unref) handle.unref();
  };
  arm(ms);
  return {
    clear(): void {
      if (handle !== null) clearTimeout(handle);
      handle = null;
    },
  };
}

/** Resolves after `ms` (unref'd: it keeps nothing alive), or at once when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      timer.clear();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = startTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Retries after a failure with a delay doubling from `firstMs` up to `maxMs` (a full disk: the store
 * refusing writes until there is room). `retry` counts the failures since the last success.
 */
export class Backoff {
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #unref: boolean;
  #timer: Timer | null = null;
  #ms = 0;
  #failures = 0;

  constructor(firstMs: number, maxMs: number, options: { unref?: boolean } = {}) {
    this.#firstMs = firstMs;
    this.#maxMs = maxMs;
    this.#unref = options.unref ?? true;
  }

  /** After a failure: calls `fn` once after the next delay; returns the failures so far (1 first). */
  retry(fn: () => void): number {
    this.cancel();
    this.#failures++;
    this.#ms = Math.min(this.#maxMs, this.#ms === 0 ? this.#firstMs : this.#ms * 2);
    this.#timer = startTimer(fn, this.#ms, { unref: this.#unref });
    return this.#failures;
  }

  /** After a success: the next failure starts again from the first delay. */
  succeeded(): void {
    this.cancel();
    this.#ms = 0;
    this.#failures = 0;
  }

  /** Stops a retry that has not fired yet (it is not called). */
  cancel(): void {
    this.#timer?.clear();
    this.#timer = null;
  }
}
