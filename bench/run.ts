// `npm run bench`: micro benchmarks, the salvo-vs-bare-runtime macro run, a 1,000-exit burst and a
// 2,000-live-container memory run; writes bench/RESULTS.md with the machine, versions, the targets
// and the measured values side by side. Sizes: SALVO_BENCH_COUNT (200), SALVO_BENCH_BURST (1000),
// SALVO_BENCH_LIVE (2000), SALVO_BENCH_E2E (150), SALVO_BENCH_IMAGES (120), SALVO_BENCH_RUNTIMES (runc,crun); state under
// SALVO_STATE_DIR or /run/salvo.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cliRatio, formatE2eText, runE2e, type E2eRow } from '../src/bench/e2e.js';
import { formatImageBenchMarkdown, runImageBench, type ImageBenchReport } from '../src/bench/image-bench.js';
import { runBench, type BenchReport } from '../src/bench/macro.js';
import { formatBenchMarkdown } from '../src/bench/report-markdown.js';
import { defaultStateDir } from '../src/launcher/state-dir.js';
import { buildTestImage } from '../test/image/layout-builder.js';
import { runBurst, type BurstResult } from './burst.js';
import { formatMicro, type MicroResult } from './harness.js';
import type { LiveResult } from './live.js';
import { runMicro } from './micro.js';

const run = promisify(execFile);
const env = process.env;
const count = Number(env.SALVO_BENCH_COUNT ?? 200);
const burstCount = Number(env.SALVO_BENCH_BURST ?? 1000);
const liveCount = Number(env.SALVO_BENCH_LIVE ?? 2000);
const e2eCount = Number(env.SALVO_BENCH_E2E ?? 150);
const imageCount = Number(env.SALVO_BENCH_IMAGES ?? 120);
const runtimes = (env.SALVO_BENCH_RUNTIMES ?? 'runc,crun').split(',');
const stateDir = join(defaultStateDir(), 'bench-results');
const results = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
const raw = fileURLToPath(new URL('../../bench/results.json', import.meta.url));
const log = (line: string): boolean => process.stderr.write(`bench: ${line}\n`);

interface Measured {
  micro: MicroResult[];
  macro: BenchReport;
  burst: BurstResult;
  live: LiveResult;
  /** `salvo bench --e2e`'s rows (absent in results of older runs). */
  e2e?: E2eRow[];
  /** `salvo bench --image`'s reports, one per runtime (absent in results of older runs). */
  images?: ImageBenchReport[];
  /** Parts measured anew by `--again`, and when. */
  again?: { parts: string[]; date: string };
}

// `npm run bench -- --render` rewrites RESULTS.md from the last run's numbers (bench/results.json).
// `npm run bench -- --again burst,e2e` measures those parts anew into the last run's numbers.
const again = process.argv.indexOf('--again');
const AGAIN_PARTS = ['burst', 'e2e', 'images'];
const againParts = again > 0 ? (process.argv[again + 1] ?? '').split(',') : [];
// A part that cannot be measured again would be claimed as measured anew in RESULTS.md.
const unknownParts = againParts.filter((part) => !AGAIN_PARTS.includes(part));
if (unknownParts.length > 0) {
  process.stderr.write(`bench: --again takes ${AGAIN_PARTS.join(', ')}; not ${unknownParts.join(', ')}\n`);
  process.exit(2);
}
const measured: Measured = process.argv.includes('--render')
  ? (JSON.parse(readFileSync(raw, 'utf8')) as Measured)
  : again > 0
    ? await measureAgain(JSON.parse(readFileSync(raw, 'utf8')) as Measured, againParts)
    : await measure();
writeFileSync(raw, `${JSON.stringify(measured, null, 2)}\n`);
// Sections written by other benches (bench:fleet) are kept as they are, and so is an images section
// when these results hold none (an older run's); the per-command table (npm run bench:commands)
// has its own file and is appended on every rewrite.
const keptParts = measured.images === undefined ? 'fleet|images' : 'fleet';
const kept = [...readFileSync(results, 'utf8').matchAll(new RegExp(`<!-- (${keptParts}):[\\s\\S]*?<!-- \\/\\1 -->\\n?`, 'g'))].map((m) => m[0]);
const commands = fileURLToPath(new URL('../../bench/commands.md', import.meta.url));
const commandsTable = existsSync(commands) ? `\n${readFileSync(commands, 'utf8')}` : '';
const imagesDate = measured.again?.parts.includes('images') === true ? measured.again.date : measured.macro.date;
const imagesSection = measured.images === undefined ? '' : `\n${formatImageBenchMarkdown(measured.images, imagesDate)}`;
writeFileSync(results, resultsMarkdown(measured) + imagesSection + kept.map((section) => `\n${section}`).join('') + commandsTable);
log(`wrote ${results}`);

async function measure(): Promise<Measured> {
  log('micro benchmarks');
  const micro = await runMicro();
  log(`macro: ${runtimes.join(', ')} × K = 1, 2, 4, 8 × ${count} containers, salvo and baseline interleaved`);
  const macro = await runBench({ runtimes, count, concurrencies: [1, 2, 4, 8], baseline: true, rounds: 4, stateDir });
  log(`burst: ${burstCount} exits at once (${runtimes[0]})`);
  const burst = await runBurst(runtimes[0] ?? 'runc', burstCount, join(stateDir, 'burst'));
  log(`live: ${liveCount} sleeping containers (${runtimes[0]})`);
  const liveMain = fileURLToPath(new URL('./live-main.js', import.meta.url));
  const args = ['--expose-gc', liveMain, runtimes[0] ?? 'runc', String(liveCount), join(stateDir, 'live')];
  const live = JSON.parse((await run(process.execPath, args, { maxBuffer: 1 << 20 })).stdout) as LiveResult;
  log(`e2e: ${e2eCount} jobs started, recorded and deleted vs xargs -P 4 run (${runtimes.join(', ')})`);
  const e2e = await runE2e({ runtimes, count: e2eCount, concurrency: 4, rounds: 2, stateDir });
  const images = await measureImages();
  return { micro, macro, burst, live, e2e, images };
}

/** Starts from the test image against starts from its bundle, per runtime (~15 s each). */
async function measureImages(): Promise<ImageBenchReport[]> {
  log(`images: ${imageCount} starts from an image vs from its bundle (${runtimes.join(', ')})`);
  const scratch = join(stateDir, 'image-source');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const layout = join(scratch, 'layout');
  await buildTestImage(join(scratch, 'trees'), layout);
  const reports: ImageBenchReport[] = [];
  for (const runtime of runtimes) {
    reports.push(await runImageBench({ runtime, image: `oci:${layout}:v1`, count: imageCount, concurrency: 4, rounds: 12, stateDir }));
  }
  rmSync(scratch, { recursive: true, force: true });
  return reports;
}

async function measureAgain(last: Measured, parts: string[]): Promise<Measured> {
  const next: Measured = { ...last, again: { parts, date: new Date().toISOString() } };
  if (parts.includes('burst')) {
    log(`burst: ${burstCount} exits at once (${runtimes[0]}), and the C reaper`);
    next.burst = await runBurst(runtimes[0] ?? 'runc', burstCount, join(stateDir, 'burst'));
  }
  if (parts.includes('e2e')) {
    log(`e2e: ${e2eCount} jobs (${runtimes.join(', ')})`);
    next.e2e = await runE2e({ runtimes, count: e2eCount, concurrency: 4, rounds: 2, stateDir });
  }
  if (parts.includes('images')) next.images = await measureImages();
  return next;
}

function f(v: number, digits = 2): string {
  return v.toFixed(digits);
}

/** A time ratio minus one, said as it is: "12.0 % slower" or "3.1 % faster". */
function slowerOrFaster(extra: number): string {
  return extra >= 0 ? `${f(extra * 100, 1)} % slower` : `${f(-extra * 100, 1)} % faster`;
}

function targets(report: BenchReport, b: BurstResult, l: LiveResult, e2e: readonly E2eRow[]): string {
  const rows: string[] = [];
  for (const r of e2e) {
    const want = r.runtime.includes('crun') ? 0.8 : 0.7;
    rows.push(
      `| end to end ≥ ${want} × \`xargs -P ${r.concurrency} ${r.runtime} run\`, ${r.count} jobs | ${f(r.salvoJobsPerSec, 1)} vs ${f(r.bareJobsPerSec, 1)} jobs/s: ${f(r.ratio, 3)} | ${r.ratio >= want ? 'met' : 'missed'} |`,
    );
  }
  for (const r of e2e) {
    if (r.cliWarmJobsPerSec === undefined) continue; // a run from before these rows
    const warm = cliRatio(r, 'warm');
    const slower = 1 / warm - 1;
    rows.push(
      `| \`salvo batch\` from the CLI (Node's start-up included) within 10 % of the in-process figure, ${r.runtime}, ${r.count} jobs | serving launcher up: ${f(r.cliWarmJobsPerSec, 1)} vs ${f(r.salvoJobsPerSec, 1)} jobs/s, ${slowerOrFaster(slower)}; none serving (it starts one): ${f(r.cliColdJobsPerSec, 1)} jobs/s, ${slowerOrFaster(1 / cliRatio(r, 'cold') - 1)} | ${slower <= 0.1 ? 'met' : 'missed'} (with a serving launcher up) |`,
    );
  }
  for (const r of report.rows) {
    const ratio = r.throughputRatio ?? 0;
    rows.push(
      `| throughput ≥ 0.97 × the C driver, ${r.runtime} K=${r.concurrency} | ${f(ratio, 3)} | ${ratio >= 0.97 ? 'met' : `missed by ${f((0.97 - ratio) * 100, 1)} points`} |`,
    );
  }
  for (const r of report.rows) {
    const cpu = r.salvo.launcherCpuMs;
    rows.push(
      `| launcher CPU ≤ 1.5 ms per container, ${r.runtime} K=${r.concurrency} | ${f(cpu)} ms (C driver: ${f(r.baseline?.launcherCpuMs ?? 0)} ms) | ${cpu <= 1.5 ? 'met' : `missed: ${f(cpu / 1.5, 1)}× the budget`} |`,
    );
  }
  for (const r of report.rows) {
    const bare = r.baseline?.runtimeCpuMs ?? 0;
    const extra = bare === 0 ? 0 : r.salvo.runtimeCpuMs / bare - 1;
    rows.push(
      `| the runtime's CPU within 5 % of its CPU under the C driver, ${r.runtime} K=${r.concurrency} | ${f(r.salvo.runtimeCpuMs, 1)} vs ${f(bare, 1)} ms (${extra >= 0 ? '+' : ''}${f(extra * 100, 1)} %) | ${extra <= 0.05 ? 'met' : 'missed'} |`,
    );
  }
  // The p99 ≤ 2 ms burst target is retired (below one waitid): the bound is a C program that only reaps.
  const c = b.cReaper;
  if (c == null)
    rows.push(
      `| burst: release → all ${b.exits} exits recorded | ${f(b.releaseToAllRecordedMs, 0)} ms | not judged: the C pidfd reaper did not run |`,
    );
  else if (c.reaped < c.exits)
    // A baseline that did not reap everything timed out: its time is not the kernel's bound.
    rows.push(
      `| burst: release → all ${b.exits} recorded within 1.25 × a C program that only reaps them by pidfd | ${f(b.releaseToAllRecordedMs, 0)} ms; the C reaper reaped ${c.reaped}/${c.exits} | not judged: the baseline is incomplete |`,
    );
  else {
    const burstRatio = b.releaseToAllRecordedMs / c.releaseToAllReapedMs;
    rows.push(
      `| burst: release → all ${b.exits} recorded within 1.25 × a C program that only reaps them by pidfd | ${f(b.releaseToAllRecordedMs, 0)} ms vs ${f(c.releaseToAllReapedMs, 0)} ms (${c.reaped}/${c.exits} reaped): ${f(burstRatio)} × | ${burstRatio <= 1.25 ? 'met' : 'missed'} |`,
    );
  }
  rows.push(
    `| launcher RSS ≤ 2 KiB per live container (${l.live} alive) | ${f(l.bytesPerLive / 1024)} KiB (V8 heap ${f(l.heapBytesPerLive / 1024)} KiB) | ${l.bytesPerLive <= 2048 ? 'met' : 'missed'} |`,
  );
  rows.push(
    `| store and reaper O(1) per exit | reap p99 ${f(l.reapP99WithNoneMs)} ms with none alive, ${f(l.reapP99WithAllMs)} ms with ${l.live} alive | ${l.reapP99WithAllMs <= Math.max(2, l.reapP99WithNoneMs * 3) ? 'met' : 'missed'} |`,
  );
  return `| target | measured | verdict |\n|---|---|---|\n${rows.join('\n')}\n`;
}

/** What the numbers say about the targets that are missed: where the time goes, and what bounds it. */
function bounds(report: BenchReport, b: BurstResult, l: LiveResult, e2e: readonly E2eRow[]): string {
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
  const lines: string[] = ['## What bounds the misses', ''];
  for (const runtime of [...new Set(report.rows.map((r) => r.runtime))]) {
    const rows = report.rows.filter((r) => r.runtime === runtime);
    const salvoCpu = mean(rows.map((r) => r.salvo.launcherCpuMs + r.salvo.runtimeCpuMs));
    const baseCpu = mean(rows.map((r) => (r.baseline?.launcherCpuMs ?? 0) + (r.baseline?.runtimeCpuMs ?? 0)));
    const launcher = mean(rows.map((r) => r.salvo.launcherCpuMs));
    const driver = mean(rows.map((r) => r.baseline?.launcherCpuMs ?? 0));
    const runtimeExtra = mean(rows.map((r) => r.salvo.runtimeCpuMs - (r.baseline?.runtimeCpuMs ?? 0)));
    lines.push(
      `- **${runtime}**: a container costs ${f(salvoCpu, 1)} ms of CPU through salvo against ${f(baseCpu, 1)} ms bare ` +
        `(launcher ${f(launcher, 1)} ms vs the baseline driver's ${f(driver, 1)} ms; the runtime's own CPU ${runtimeExtra >= 0 ? '+' : ''}${f(runtimeExtra, 1)} ms). ` +
        `On 2 cores starts are CPU-bound from K = 2 on, so the throughput ratio follows the CPU ratio (${f(baseCpu / salvoCpu)}). ` +
        // The two targets of issue 10 side by side: what the 1.5 ms budget allows, and what 0.97 asks.
        `At the launcher's budget of 1.5 ms that ratio would be ${f(baseCpu / (baseCpu - driver + 1.5))}; a ratio of 0.97 needs the ` +
        `launcher within ${f((baseCpu - 0.97 * (baseCpu - driver)) / 0.97)} ms per container, so the two targets cannot both hold where starts are CPU-bound.`,
    );
  }
  lines.push(
    "- The runtime is no longer spawned by a fork of the launcher: the hot path uses the addon's vfork spawner " +
      "(DESIGN §5), whose parent CPU per spawn does not grow with the heap, where execa's fork does (the spawner rows " +
      "in Micro). What is left of the launcher's CPU per container is JavaScript: the start task's message to and from " +
      'the worker, preparing the process directory, the store writes, the reap and the promise chain; the C driver does ' +
      'none of that and records nothing. This run was made on a 2-core machine shared with other jobs: ratios come from ' +
      'one run with the sides interleaved, absolute numbers drift.',
    `- Burst: the ${b.exits} exits came in ${b.passes.count} reap pass${b.passes.count === 1 ? '' : 'es'} (the largest ${b.passes.largest}), the first ` +
      `${f(b.passes.firstAfterReleaseMs, 0)} ms after the release: the kernel turns the released processes into zombies in a bunch ` +
      '(a /proc sampler saw over half of them turn Z within one 20 ms scan), so the reaper meets them together. Per exit, ' +
      `\`waitid\` took ${f(b.passes.reapUsPerExit, 0)} µs of wall time there (~24 µs for quiet zombies, Micro) and the handler ` +
      `${f(b.passes.handlerUsPerExit, 0)} µs (store transaction, exitStatus hand-off, promises). Of the passes' ${f(b.passes.wallMs, 0)} ms, ` +
      `the main thread was on a CPU ${f(b.passes.onCpuMs, 0)} ms and runnable but waiting for one ${f(b.passes.waitingForCpuMs, 0)} ms ` +
      "(its schedstat; the rest it slept on kernel locks): the exiting processes' teardown holds the 2 cores and the task list " +
      'lock, and renicing the launcher to -15 did not change that (tried). The last exit of a pass waits for the ones before ' +
      'it, so p99 ≤ 2 ms over 1000 exits that are ready at once would need ≤ 2 µs per exit, less than one `waitid` call: the ' +
      'bound is the kernel, not the store. Exits that arrive over time are committed within a pass of a few (reap-to-record ' +
      'p99 in the macro table). ' +
      `Per live container the launcher holds ${f(l.heapBytesPerLive / 1024)} KiB of V8 heap. ` +
      'RSS per live container is measured after a first round of as many starts, so that what the start path keeps ' +
      "from a burst (the workers' V8 heaps, malloc's arenas; V8's young generation on the main thread, which grew to 32 MB " +
      'before salvo kept it at its first size) is on both sides' +
      (l.rssColdMb === undefined ? '.' : `: that first round added ${f(l.rssBeforeMb - l.rssColdMb, 1)} MB, once, not per container.`) +
      ' At this scale RSS moves by a few MB between two measures (±2 KiB per container at 2,000).',
    '- End to end, a job through salvo is one `run -d` (the native spawner), its exit recorded, and its share of a ' +
      'batched delete (crun) or one delete (runc); the foreground `xargs … run` does create, start, wait and delete in one ' +
      "runtime process per job and records nothing. On 2 cores the launcher's own CPU per job (the JavaScript above) " +
      'competes with the runtimes for the same cores, which is what the ratio pays for.',
    ...e2e
      .filter((r) => r.cliWarmJobsPerSec !== undefined)
      .map((r) => {
        const inProcessMs = (r.count * 1000) / r.salvoJobsPerSec;
        const extraMs = (r.count * 1000) / r.cliWarmJobsPerSec - inProcessMs;
        return (
          `- \`salvo batch\` from the CLI, ${r.runtime}: a command is a Node process of its own. Node's start-up alone (\`node -e 0\`) ` +
          `took ${f(r.nodeStartMs, 0)} ms here; the client then loads its modules, connects to the serving launcher and streams the results. ` +
          `At ${r.count} jobs and ${f(r.salvoJobsPerSec, 1)} jobs/s in-process, 10 % is ${f(inProcessMs * 0.1, 0)} ms` +
          `${inProcessMs * 0.1 < r.nodeStartMs ? ", less than Node's start-up: the target cannot hold at this N on this machine" : ''}. ` +
          `With a serving launcher up the command took ${f(extraMs, 0)} ms more than in-process; with none it also starts one ` +
          `(a second Node process, ready in ~260-300 ms, DESIGN §5). Proposed instead, as for \`salvo ps\`: a command's extra time ` +
          `≤ \`node -e 0\` + 100 ms with a serving launcher up (${extraMs <= r.nodeStartMs + 100 ? 'met' : 'missed'} here: ${f(extraMs, 0)} vs ${f(r.nodeStartMs + 100, 0)} ms).`
        );
      }),
    '- Burst: the C program reaps the same number of released processes by pidfd with nothing else to do; salvo also ' +
      'commits every exit to SQLite, hands the exitStatus files to a worker and settles a promise per exit, and its ' +
      "first pass starts only when the main thread's loop gets to it.",
    '',
  );
  return lines.join('\n');
}

function resultsMarkdown(measured: Measured): string {
  const { macro: report, micro: microResults, burst: b, live: l } = measured;
  const e2e = measured.e2e ?? [];
  const m = report.machine;
  const again =
    measured.again === undefined
      ? ''
      : `\n- Measured anew on ${measured.again.date} (\`npm run bench -- --again ${measured.again.parts.join(',')}\`): ${measured.again.parts.join(', ')}.`;
  return `# salvo benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${report.date}.${again}

- Machine: ${m.cpus} × ${m.model}, ${m.memoryGb} GiB, Linux ${m.kernel}
- Node ${report.versions.node}, salvo ${report.versions.salvo}; ${Object.entries(report.versions.runtimes)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ')}
- Macro: ${report.count} containers of \`/bin/true\` per row, salvo (every exit recorded) and the bare runtime CLI (\`run -d\`, nothing recorded) driven by a C program (posix_spawn, K at a time: the baseline of the ratios) and by a Node process, in ${report.rounds} interleaved rounds (ABBA); deletes after each timed part on all sides.

## Targets

${targets(report, b, l, e2e)}
${bounds(report, b, l, e2e)}
## Macro: salvo vs the bare runtime

${formatBenchMarkdown(report)}
## End to end: short jobs through salvo vs \`xargs -P K runtime run\`

\`\`\`
${formatE2eText(e2e)}\`\`\`

## Burst: ${b.exits} exits released at once (${b.runtime})

| exits recorded | release → all recorded | reap noticed → committed p50 / p99 / max | event-loop delay p50 / p99 / max | passes (largest) | waitid / handler µs per exit |
|---:|---:|---|---|---:|---|
| ${b.recorded}/${b.exits} | ${f(b.releaseToAllRecordedMs, 0)} ms | ${f(b.reapToRecord.p50)} / ${f(b.reapToRecord.p99)} / ${f(b.reapToRecord.max)} ms | ${f(b.loopDelay.p50)} / ${f(b.loopDelay.p99)} / ${f(b.loopDelay.max)} ms | ${b.passes.count} (${b.passes.largest}) | ${f(b.passes.reapUsPerExit, 0)} / ${f(b.passes.handlerUsPerExit, 0)} |

## Live containers: ${l.live} sleeping (${l.runtime})

RSS after a full GC: before any start (cold), after a first round of ${l.live} started, killed and reaped (none alive: what the start path keeps from a burst), and with ${l.live} alive; per live container = (with ${l.live} − none alive) / ${l.live}.

| RSS cold | RSS, none alive after a first round | RSS with ${l.live} | per live container | V8 heap per live container | reap p99, none alive | reap p99, ${l.live} alive |
|---:|---:|---:|---:|---:|---:|---:|
| ${l.rssColdMb === undefined ? '–' : `${f(l.rssColdMb, 1)} MB`} | ${f(l.rssBeforeMb, 1)} MB | ${f(l.rssAfterMb, 1)} MB | ${f(l.bytesPerLive / 1024)} KiB | ${f(l.heapBytesPerLive / 1024)} KiB | ${f(l.reapP99WithNoneMs)} ms | ${f(l.reapP99WithAllMs)} ms |

## Micro

${formatMicro(microResults)}`;
}
