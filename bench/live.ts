// Macro: launcher memory per live container, and reap cost with many alive. Starts N sleeping
// containers and compares the launcher's RSS (after a full GC: run node with --expose-gc) and the
// reap path's latency with none and with N alive. A first round of N (started, killed, reaped)
// comes before the 'none alive' measure: memory the start path keeps from a burst (V8 and malloc
// do not give it back) is then in both measures, and the difference is what a live container holds.
import { Launcher, type Proc } from '../src/index.js';
import { pool } from '../src/bench/pool.js';

export interface LiveResult {
  runtime: string;
  live: number;
  /** Before the first round (the start path keeps rssBeforeMb - rssColdMb); absent in older results.json. */
  rssColdMb?: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  bytesPerLive: number;
  heapBytesPerLive: number;
  reapP99WithNoneMs: number;
  reapP99WithAllMs: number;
}

function settledMemory(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
}

/** p99 of reap-to-record over `n` short containers started one by one. */
async function reapP99(launcher: Launcher, n: number, tag: string): Promise<number> {
  launcher.reapLatency.reset();
  for (let i = 0; i < n; i++) await (await launcher.start({ id: `live-probe-${tag}-${i}`, args: ['/bin/true'], stdio: 'null' })).exited;
  return launcher.reapLatency.quantile(0.99);
}

export async function runLive(runtime: string, count: number, stateDir: string): Promise<LiveResult> {
  const launcher = await Launcher.open({ stateDir, runtime, tasksPerWorker: 16 });
  try {
    await launcher.gc();
    // Warm up every code path first, so that what grows later is per-container state.
    const warm = await Promise.all(
      Array.from({ length: 20 }, (_, i) => launcher.start({ id: `live-warm-${i}`, args: ['/bin/sleep', '3600'], stdio: 'null' })),
    );
    await Promise.all(warm.map((p) => launcher.kill(p.id, 'SIGKILL')));
    await Promise.all(warm.map((p) => p.exited));
    const cold = settledMemory();
    const startAll = async (tag: string): Promise<Proc[]> => {
      const procs: Proc[] = [];
      const ids = Array.from({ length: count }, (_, i) => `live-${tag}${i}`);
      await pool(ids, 8, async (id) => {
        procs.push(await launcher.start({ id, args: ['/bin/sleep', '3600'], stdio: 'null' }));
      });
      return procs;
    };
    const first = await startAll('first-');
    await Promise.all(first.map((p) => launcher.kill(p.id, 'SIGKILL')));
    await Promise.all(first.map((p) => p.exited));
    first.length = 0;
    await launcher.gc();
    const reapP99WithNoneMs = await reapP99(launcher, 30, 'none');
    const before = settledMemory();
    const procs = await startAll('');
    // The user's Proc objects are theirs, not the launcher's: measure without them.
    const kept = procs.map((p) => p.exited);
    procs.length = 0;
    const after = settledMemory();
    const reapP99WithAllMs = await reapP99(launcher, 30, 'all');
    await launcher.close({ containers: 'kill', graceMs: 1000 });
    await Promise.all(kept);
    return {
      runtime,
      live: count,
      rssColdMb: cold.rss / 2 ** 20,
      rssBeforeMb: before.rss / 2 ** 20,
      rssAfterMb: after.rss / 2 ** 20,
      bytesPerLive: (after.rss - before.rss) / count,
      heapBytesPerLive: (after.heap - before.heap) / count,
      reapP99WithNoneMs,
      reapP99WithAllMs,
    };
  } finally {
    await launcher.close();
  }
}
