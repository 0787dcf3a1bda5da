// `npm run bench`: micro benchmarks, the salvo-vs-bare-runtime macro run, a 1,000-exit burst and a
// 2,000-live-container memory run; writes bench/RESULTS.md with the machine, versions, the targets
// and the measured values side by side. Sizes: SALVO_BENCH_COUNT (200), SALVO_BENCH_BURST (1000),
// SALVO_BENCH_LIVE (2000), SALVO_BENCH_RUNTIMES (runc,crun); state under SALVO_STATE_DIR or /run/salvo.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runBench, type BenchReport } from '../src/bench/macro.js';
import { formatBenchMarkdown } from '../src/bench/report-markdown.js';
import { defaultStateDir } from '../src/launcher/state-dir.js';
import { runBurst, type BurstResult } from './burst.js';
import { formatMicro, type MicroResult } from './harness.js';
import type { LiveResult } from './live.js';
import { runMicro } from './micro.js';

const run = promisify(execFile);
const env = process.env;
const count = Number(env.SALVO_BENCH_COUNT ?? 200);
const burstCount = Number(env.SALVO_BENCH_BURST ?? 1000);
const liveCount = Number(env.SALVO_BENCH_LIVE ?? 2000);
const runtimes = (env.SALVO_BENCH_RUNTIMES ?? 'runc,crun').split(',');
const stateDir = join(defaultStateDir(), 'bench-results');
const results = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
const log = (line: string): boolean => process.stderr.write(`bench: ${line}\n`);

log('micro benchmarks');
const micro = await runMicro();
log(`macro: ${runtimes.join(', ')} × K = 1, 2, 4, 8 × ${count} containers, salvo and baseline interleaved`);
const macro = await runBench({ runtimes, count, concurrencies: [1, 2, 4, 8], baseline: true, rounds: 4, stateDir });
log(`burst: ${burstCount} exits at once (${runtimes[0]})`);
const burst = await runBurst(runtimes[0] ?? 'runc', burstCount, join(stateDir, 'burst'));
log(`live: ${liveCount} sleeping containers (${runtimes[0]})`);
const liveMain = fileURLToPath(new URL('./live-main.js', import.meta.url));
const live = JSON.parse(
  (await run(process.execPath, ['--expose-gc', liveMain, runtimes[0] ?? 'runc', String(liveCount), join(stateDir, 'live')], { maxBuffer: 1 << 20 })).stdout,
) as LiveResult;
writeFileSync(results, resultsMarkdown(macro, micro, burst, live));
log(`wrote ${results}`);

function f(v: number, digits = 2): string {
  return v.toFixed(digits);
}

function targets(report: BenchReport, b: BurstResult, l: LiveResult): string {
  const rows: string[] = [];
  for (const r of report.rows) {
    const ratio = r.throughputRatio ?? 0;
    rows.push(`| throughput ≥ 0.97 × baseline, ${r.runtime} K=${r.concurrency} | ${f(ratio, 3)} | ${ratio >= 0.97 ? 'met' : `missed by ${f((0.97 - ratio) * 100, 1)} points`} |`);
  }
  for (const r of report.rows) {
    const share = r.cpuShare * 100;
    rows.push(`| launcher CPU ≤ 3% of the runtime's, ${r.runtime} K=${r.concurrency} | ${f(share, 1)}% (${f(r.salvo.launcherCpuMs)} of ${f(r.salvo.runtimeCpuMs, 1)} ms) | ${share <= 3 ? 'met' : `missed: ${f(share / 3, 1)}× the budget`} |`);
  }
  const bound = b.reapToRecord.p99 + b.loopDelay.p99;
  rows.push(`| reap-to-record p99 ≤ 2 ms at ${b.exits} exits in one burst | noticed→committed p99 ${f(b.reapToRecord.p99)} ms; + event-loop delay p99 ${f(b.loopDelay.p99)} ms = ${f(bound)} ms | ${bound <= 2 ? 'met' : 'missed'} |`);
  rows.push(`| launcher RSS ≤ 2 KiB per live container (${l.live} alive) | ${f(l.bytesPerLive / 1024)} KiB (V8 heap ${f(l.heapBytesPerLive / 1024)} KiB) | ${l.bytesPerLive <= 2048 ? 'met' : 'missed'} |`);
  rows.push(`| store and reaper O(1) per exit | reap p99 ${f(l.reapP99WithNoneMs)} ms with none alive, ${f(l.reapP99WithAllMs)} ms with ${l.live} alive | ${l.reapP99WithAllMs <= Math.max(2, l.reapP99WithNoneMs * 3) ? 'met' : 'missed'} |`);
  return `| target | measured | verdict |\n|---|---|---|\n${rows.join('\n')}\n`;
}

function resultsMarkdown(report: BenchReport, microResults: MicroResult[], b: BurstResult, l: LiveResult): string {
  const m = report.machine;
  return `# salvo benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${report.date}.

- Machine: ${m.cpus} × ${m.model}, ${m.memoryGb} GiB, Linux ${m.kernel}
- Node ${report.versions.node}, salvo ${report.versions.salvo}; ${Object.entries(report.versions.runtimes).map(([k, v]) => `${k}: ${v}`).join('; ')}
- Macro: ${report.count} containers of \`/bin/true\` per row, salvo (every exit recorded) and the bare runtime CLI (\`run -d\`, nothing recorded) in ${report.rounds} interleaved rounds (ABBA); deletes after each timed part on both sides.

## Targets

${targets(report, b, l)}
## Macro: salvo vs the bare runtime

${formatBenchMarkdown(report)}
## Burst: ${b.exits} exits released at once (${b.runtime})

| exits recorded | release → all recorded | reap noticed → committed p50 / p99 / max | event-loop delay p50 / p99 / max |
|---:|---:|---|---|
| ${b.recorded}/${b.exits} | ${f(b.releaseToAllRecordedMs, 0)} ms | ${f(b.reapToRecord.p50)} / ${f(b.reapToRecord.p99)} / ${f(b.reapToRecord.max)} ms | ${f(b.loopDelay.p50)} / ${f(b.loopDelay.p99)} / ${f(b.loopDelay.max)} ms |

## Live containers: ${l.live} sleeping (${l.runtime})

| RSS with none | RSS with ${l.live} | per live container | V8 heap per live container | reap p99, none alive | reap p99, ${l.live} alive |
|---:|---:|---:|---:|---:|---:|
| ${f(l.rssBeforeMb, 1)} MB | ${f(l.rssAfterMb, 1)} MB | ${f(l.bytesPerLive / 1024)} KiB | ${f(l.heapBytesPerLive / 1024)} KiB | ${f(l.reapP99WithNoneMs)} ms | ${f(l.reapP99WithAllMs)} ms |

## Micro

${formatMicro(microResults)}`;
}
