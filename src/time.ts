// One clock for timings that cross threads: epoch milliseconds with sub-millisecond precision.

/** performance.now() on the epoch scale: comparable between the main thread and a worker. */
export const now = (): number => performance.timeOrigin + performance.now();
