// A fixed-size latency histogram: log-spaced buckets from 1 µs to ~17 min, so recording is O(1)
// and memory does not grow with the number of samples (it sits on the reap path).
const BUCKETS_PER_DOUBLING = 16;
const BUCKET_COUNT = 30 * BUCKETS_PER_DOUBLING; // 2^30 µs ≈ 17.9 min

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKET_COUNT);
  #total = 0;
  #max = 0;
  #sum = 0;

  /** Records `weight` samples of `ms` milliseconds. */
  record(ms: number, weight = 1): void {
    const us = Math.max(1, ms * 1000);
    const bucket = Math.min(BUCKET_COUNT - 1, Math.floor(Math.log2(us) * BUCKETS_PER_DOUBLING));
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + weight;
    this.#total += weight;
    this.#sum += ms * weight;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#total === 0 ? 0 : this.#sum / this.#total;
  }

  /** The upper edge of the bucket holding quantile q (0..1), in ms; within 4.4% of the true value. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = q * this.#total;
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank && seen > 0) return Math.min(this.#max, 2 ** ((i + 1) / BUCKETS_PER_DOUBLING) / 1000);
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
    this.#sum = 0;
  }
}
