// `salvo bench`: N containers of /bin/true through salvo (every exit recorded) and, in the same
// run and interleaved round by round, the bare runtime CLI doing `run -d` for as many ids, K at a
// time, with no exit tracking: driven by a tiny C program (native/bench-driver.c, the primary
// baseline) and by a small Node process (the second). Deletes happen after each timed part, for all.
import { execFile } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deriveConfig, loadBundleConfig, writeConfig } from '../bundle/spec.js';
import { Launcher } from '../launcher/launcher.js';
import { native } from '../native.js';
import type { JobSpec, Logger } from '../types.js';
import { quantileOf } from '../stats.js';
import type { BaselineInput, BaselineOutput } from './baseline-driver.js';
import { childrenCpuMs, sampleRss, selfCpuMs } from './cpu.js';

const run = promisify(execFile);
const BASELINE_MAIN = fileURLToPath(new URL('./baseline-main.js', import.meta.url));
const C_DRIVER = fileURLToPath(new URL('../../../build/Release/salvo-bench-driver', import.meta.url));

export interface BenchOptions {
  runtimes: string[];
  count: number;
  concurrencies: number[];
  baseline: boolean;
  /** Each (runtime, K) is split into this many salvo/baseline rounds, alternating which goes first. */
  rounds: number;
  stateDir: string;
  bundle?: string;
  logger?: Logger;
  onContainer?: () => void;
}

export interface Distribution {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PhaseStats {
  count: number;
  wallMs: number;
  startsPerSec: number;
  /** Start latency: from the runtime's spawn to it reporting the container running, ms (queue and prepare are in `phases`). */
  latency: Distribution;
  /** salvo only: mean ms per phase of a launch, and reap-to-record per exit. */
  phases: { queuedMs: number; prepareMs: number; runtimeMs: number; reapToRecord: Distribution } | null;
  /** The launcher's (or baseline driver's) own CPU per container, ms. */
  launcherCpuMs: number;
  /** CPU of the runtime processes and containers per container, ms. */
  runtimeCpuMs: number;
  peakRssMb: number | null;
  /** salvo: exits committed to the store (must equal count); baseline: null (it records none). */
  exitsRecorded: number | null;
  failures: number;
  firstError: string | null;
}

export interface BenchRow {
  runtime: string;
  runtimeVersion: string;
  concurrency: number;
  salvo: PhaseStats;
  /** The primary baseline: the C driver (posix_spawn, K at a time). */
  baseline: PhaseStats | null;
  /** The second baseline: a small Node process spawning with child_process. */
  nodeBaseline?: PhaseStats | null;
  /** salvo starts/s divided by the (C driver) baseline's starts/s. */
  throughputRatio: number | null;
  /** salvo's launcher CPU as a share of the runtime's own CPU per container. */
  cpuShare: number;
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; model: string; memoryGb: number; kernel: string };
  versions: { node: string; salvo: string; runtimes: Record<string, string> };
  count: number;
  rounds: number;
  concurrencies: number[];
  rows: BenchRow[];
}

function distribution(samples: number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { p50: quantileOf(sorted, 0.5), p95: quantileOf(sorted, 0.95), p99: quantileOf(sorted, 0.99), max: sorted.at(-1) ?? 0, mean };
}

/** The default bundle with /bin/true as its process, so neither side derives a config per start. */
async function trueBundle(launcher: Launcher, dir: string): Promise<string> {
  const base = await launcher.defaultBundle();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeConfig(dir, deriveConfig(loadBundleConfig(base), base, { args: ['/bin/true'] }));
  return dir;
}

interface PhaseSamples {
  wallMs: number;
  latencies: number[];
  launcherCpuMs: number;
  runtimeCpuMs: number;
  peakRss: number | null;
  exitsRecorded: number | null;
  failures: number;
  firstError: string | null;
  queued: number[];
  prepare: number[];
  /** The round's reap-to-record histogram, summed up (null: none, or the baseline). */
  reap: (Distribution & { count: number }) | null;
}

async function salvoRound(
  launcher: Launcher,
  bundle: string,
  ids: string[],
  k: number,
  batchId: string,
  onContainer?: () => void,
): Promise<PhaseSamples> {
  const jobs: JobSpec[] = ids.map((id) => ({ id, bundle, stdio: 'null' }));
  launcher.reapLatency.reset();
  const rss = sampleRss();
  const cpu0 = selfCpuMs();
  const children0 = childrenCpuMs();
  const began = performance.now();
  const samples: PhaseSamples = {
    wallMs: 0,
    latencies: [],
    launcherCpuMs: 0,
    runtimeCpuMs: 0,
    peakRss: null,
    exitsRecorded: 0,
    failures: 0,
    firstError: null,
    queued: [],
    prepare: [],
    reap: null,
  };
  for await (const result of launcher.batch(jobs, { concurrency: k, batchId })) {
    const t = result.timings;
    if (result.state === 'failed') {
      samples.failures++;
      samples.firstError ??= result.error?.message ?? 'failed';
    } else {
      // Like the baseline's: from the runtime's spawn to it reporting the container running
      // (so it is also the runtime phase).
      samples.latencies.push(t.runtimeMs);
      samples.queued.push(t.queuedMs);
      samples.prepare.push(t.prepareMs);
    }
    onContainer?.();
  }
  samples.wallMs = performance.now() - began;
  samples.launcherCpuMs = selfCpuMs() - cpu0;
  samples.runtimeCpuMs = childrenCpuMs() - children0;
  samples.peakRss = rss.stop();
  samples.exitsRecorded = launcher.list({ batchId }).filter((r) => r.state === 'exited').length;
  const h = launcher.reapLatency;
  // The histogram keeps quantiles, not samples: carry its summary.
  samples.reap =
    h.count === 0 ? null : { p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99), max: h.max, mean: h.mean, count: h.count };
  await launcher.gc(); // untimed: the baseline deletes after its timed part too
  return samples;
}

/** One baseline round: the C driver (`mountNamespace` entered by the driver itself) or the Node one. */
async function baselineRound(
  input: BaselineInput,
  driver: 'c' | 'node',
  mountNamespace: string | null,
  onContainer?: () => void,
): Promise<PhaseSamples> {
  const { stdout } =
    driver === 'node'
      ? await run(process.execPath, [BASELINE_MAIN, JSON.stringify(input)], { maxBuffer: 64 << 20 })
      : await run(C_DRIVER, [String(input.concurrency), mountNamespace ?? '-', input.realPath, input.root, input.bundle, ...input.ids], {
          maxBuffer: 64 << 20,
        });
  const out = JSON.parse(stdout) as BaselineOutput;
  for (let i = 0; i < input.ids.length; i++) onContainer?.();
  return {
    wallMs: out.wallMs,
    latencies: out.latencies,
    launcherCpuMs: out.driverCpuMs,
    runtimeCpuMs: out.childrenCpuMs,
    peakRss: null,
    exitsRecorded: null,
    failures: out.failures,
    firstError: out.firstError,
    queued: [],
    prepare: [],
    reap: null,
  };
}

function merge(rounds: PhaseSamples[], withPhases: boolean): PhaseStats {
  const count = rounds.reduce((n, r) => n + r.latencies.length + r.failures, 0);
  const wallMs = rounds.reduce((n, r) => n + r.wallMs, 0);
  const all = (pick: (r: PhaseSamples) => number[]): number[] => rounds.flatMap(pick);
  const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const reaps = rounds.flatMap((r) => (r.reap === null ? [] : [r.reap]));
  const worst = (pick: (d: NonNullable<PhaseSamples['reap']>) => number): number => Math.max(0, ...reaps.map(pick));
  const reapCount = reaps.reduce((n, d) => n + d.count, 0);
  return {
    count,
    wallMs,
    startsPerSec: wallMs === 0 ? 0 : (count * 1000) / wallMs,
    latency: distribution(all((r) => r.latencies)),
    phases: withPhases
      ? {
          queuedMs: mean(all((r) => r.queued)),
          prepareMs: mean(all((r) => r.prepare)),
          runtimeMs: mean(all((r) => r.latencies)),
          // Quantiles are the worst round's (histograms do not merge into samples); the mean is over every exit.
          reapToRecord: {
            p50: worst((d) => d.p50),
            p95: worst((d) => d.p95),
            p99: worst((d) => d.p99),
            max: worst((d) => d.max),
            mean: reapCount === 0 ? 0 : reaps.reduce((n, d) => n + d.mean * d.count, 0) / reapCount,
          },
        }
      : null,
    launcherCpuMs: count === 0 ? 0 : rounds.reduce((n, r) => n + r.launcherCpuMs, 0) / count,
    runtimeCpuMs: count === 0 ? 0 : rounds.reduce((n, r) => n + r.runtimeCpuMs, 0) / count,
    peakRssMb: rounds.some((r) => r.peakRss !== null) ? Math.max(...rounds.map((r) => r.peakRss ?? 0)) / (1 << 20) : null,
    exitsRecorded: rounds.every((r) => r.exitsRecorded === null) ? null : rounds.reduce((n, r) => n + (r.exitsRecorded ?? 0), 0),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    firstError: rounds.find((r) => r.firstError !== null)?.firstError ?? null,
  };
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const versions: Record<string, string> = {};
  const maxK = Math.max(...options.concurrencies);
  for (const runtime of options.runtimes) {
    const dir = join(options.stateDir, 'bench', basename(runtime));
    const launcher = await Launcher.open({
      stateDir: dir,
      runtime,
      workers: 1,
      // Room for K spawns, the job preparing ahead, and the deletes of gc between rounds.
      tasksPerWorker: Math.max(8, maxK * 2 + 2),
      deleteAfterExit: false,
      logger: options.logger,
    });
    try {
      const info = launcher.runtime;
      versions[runtime] = info.version;
      const bundle = options.bundle ?? (await trueBundle(launcher, join(dir, 'bundles', 'true')));
      // The baseline runs the same binary the same way, minus salvo: in crun's namespace if needed.
      const file = info.mountNamespace === null ? info.path : 'nsenter';
      const prefix = info.mountNamespace === null ? [] : [`--mount=${info.mountNamespace}`, '--', info.path];
      const baselineRoot = join(dir, 'runtime', 'baseline');
      mkdirSync(baselineRoot, { recursive: true, mode: 0o700 });
      native().spreadSubdirectories(baselineRoot); // as salvo's own root: the runtime's state costs both sides the same
      await launcher.gc();
      for (const k of options.concurrencies) {
        const salvoRounds: PhaseSamples[] = [];
        const baselineRounds: PhaseSamples[] = [];
        const nodeRounds: PhaseSamples[] = [];
        for (const [round, n] of split(options.count, options.rounds).entries()) {
          if (n === 0) continue;
          const ids = (side: string): string[] => Array.from({ length: n }, (_, i) => `bench-${side}-k${k}-r${round}-${i}`);
          const doSalvo = async (): Promise<void> => {
            salvoRounds.push(
              await salvoRound(launcher, bundle, ids('s'), k, `bench-k${k}-r${round}-${Date.now().toString(36)}`, options.onContainer),
            );
          };
          const doBaselines = async (): Promise<void> => {
            if (!options.baseline) return;
            const input = { file, prefix, realPath: info.path, root: baselineRoot, bundle, concurrency: k };
            baselineRounds.push(await baselineRound({ ...input, ids: ids('c') }, 'c', info.mountNamespace, options.onContainer));
            nodeRounds.push(await baselineRound({ ...input, ids: ids('b') }, 'node', info.mountNamespace));
          };
          // ABBA: alternate which side goes first, so drift on a shared machine hits both alike.
          if (round % 2 === 0) {
            await doSalvo();
            await doBaselines();
          } else {
            await doBaselines();
            await doSalvo();
          }
        }
        const salvo = merge(salvoRounds, true);
        const baseline = options.baseline ? merge(baselineRounds, false) : null;
        rows.push({
          runtime,
          runtimeVersion: info.version,
          concurrency: k,
          salvo,
          baseline,
          nodeBaseline: options.baseline ? merge(nodeRounds, false) : null,
          throughputRatio: baseline === null || baseline.startsPerSec === 0 ? null : salvo.startsPerSec / baseline.startsPerSec,
          cpuShare: salvo.runtimeCpuMs === 0 ? 0 : salvo.launcherCpuMs / salvo.runtimeCpuMs,
        });
      }
    } finally {
      await launcher.close();
    }
  }
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    machine: { cpus: cores.length, model: cores[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), kernel: release() },
    versions: { node: process.version, salvo: salvoVersion(), runtimes: versions },
    count: options.count,
    rounds: options.rounds,
    concurrencies: options.concurrencies,
    rows,
  };
}

function salvoVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
