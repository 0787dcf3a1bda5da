// A small harness over the `benchmark` package for stateless cases, and an explicit-setup timer for
// stateful ones (a reap pass consumes its zombies; a store transaction consumes its live rows).
import Benchmark from 'benchmark';
import { quantileOf } from '../src/stats.js';

export interface MicroResult {
  name: string;
  /** Mean time of one operation, µs. */
  meanUs: number;
  /** p99 of the samples, µs (timed cases; Benchmark.js reports no quantiles). */
  p99Us: number | null;
  opsPerSec: number;
  /** Relative margin of error, % (Benchmark.js), or the sample count for timed cases. */
  note: string;
}

/** Runs a stateless case with Benchmark.js. */
export function benchmarkCase(name: string, fn: () => void, maxTime = 2): MicroResult {
  const bench = new Benchmark(name, fn, { maxTime });
  bench.run({ async: false });
  const meanUs = bench.stats.mean * 1e6;
  return { name, meanUs, p99Us: null, opsPerSec: bench.hz, note: `±${bench.stats.rme.toFixed(1)}% (${bench.stats.sample.length} samples)` };
}

/** Runs `setup` then times `run` once per sample; for cases that consume their input. */
export async function timedCase<T>(
  name: string,
  samples: number,
  setup: () => Promise<T> | T,
  run: (input: T) => Promise<number | void> | number | void,
): Promise<MicroResult> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const input = await setup();
    const began = performance.now();
    const measured = await run(input);
    times.push(typeof measured === 'number' ? measured : performance.now() - began);
  }
  times.sort((a, b) => a - b);
  const meanMs = times.reduce((a, b) => a + b, 0) / times.length;
  const p99 = quantileOf(times, 0.99);
  return {
    name,
    meanUs: meanMs * 1000,
    p99Us: p99 * 1000,
    opsPerSec: 1000 / meanMs,
    note: `${samples} samples, median ${(times[times.length >> 1] ?? 0).toFixed(2)} ms`,
  };
}

export function formatMicro(results: readonly MicroResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.meanUs.toFixed(r.meanUs < 10 ? 2 : 0)} | ${r.p99Us === null ? '-' : r.p99Us.toFixed(0)} | ${r.opsPerSec.toFixed(0)} | ${r.note} |`,
  );
  return `| case | mean µs | p99 µs | ops/s | note |\n|---|---:|---:|---:|---|\n${rows.join('\n')}\n`;
}
