// `salvo bench --e2e`: N short jobs as a CI user runs them, end to end. Through the launcher:
// started (`run -d`), every exit recorded, every container deleted (timed until deletesSettled(): the
// deletes held behind starts count). Against, in the same run and interleaved: `seq N | xargs -P K <runtime> run`
// (foreground: the runtime waits for the container and deletes it; nothing is recorded), and the
// same jobs through `salvo batch` from the CLI, a whole process each (Node's start-up included):
// with a serving launcher already up, and with none (the command starts one, as a first call does).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { deriveConfig, loadBundleConfig, writeConfig } from '../bundle/spec.js';
import { Launcher } from '../launcher/launcher.js';
import { native } from '../native.js';
import type { JobSpec } from '../types.js';

const run = promisify(execFile);

export interface E2eOptions {
  runtimes: string[];
  count: number;
  concurrency: number;
  rounds: number;
  stateDir: string;
}

export interface E2eRow {
  runtime: string;
  count: number;
  concurrency: number;
  /** Jobs per second through the launcher (open excluded; start, record, delete included). */
  salvoJobsPerSec: number;
  /** Jobs per second of `xargs -P K runtime run`. */
  bareJobsPerSec: number;
  ratio: number;
  /** Jobs per second of `salvo batch` (the whole CLI process, `count` jobs per command) with a serving launcher up. */
  cliWarmJobsPerSec: number;
  /** The same with none serving: the command starts one (its start-up is in the time). */
  cliColdJobsPerSec: number;
  salvoFailures: number;
  bareFailures: number;
  /** CLI runs that exited non-zero (each a whole batch). */
  cliFailures: number;
  /** Node's own start-up here (`node -e 0`, median of 3): a floor of every CLI call. */
  nodeStartMs: number;
}

const CLI_MAIN = new URL('../cli/main.js', import.meta.url).pathname;

/** The default bundle with /bin/true as its process, for both sides. */
async function trueBundle(launcher: Launcher, dir: string): Promise<string> {
  const bundle = join(dir, 'bundles', 'true');
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  const base = await launcher.defaultBundle();
  writeConfig(bundle, deriveConfig(loadBundleConfig(base), base, { args: ['/bin/true'] }));
  return bundle;
}

async function salvoSide(
  runtime: string,
  dir: string,
  bundle: string,
  count: number,
  k: number,
  tag: string,
): Promise<{ ms: number; failures: number }> {
  const launcher = await Launcher.open({ stateDir: dir, runtime, tasksPerWorker: Math.max(8, k * 2 + 2) });
  let failures = 0;
  let began = 0;
  try {
    const jobs: JobSpec[] = Array.from({ length: count }, (_, i) => ({ id: `e2e-s-${tag}-${i}`, bundle, stdio: 'null' }));
    // Untimed: one job, so the timed part starts with the worker loaded (open no longer waits for it, §5).
    for await (const result of launcher.batch([{ id: `e2e-s-${tag}-first`, bundle, stdio: 'null' }])) if (result.exitCode !== 0) failures++;
    await launcher.deletesSettled();
    began = performance.now();
    for await (const result of launcher.batch(jobs, { concurrency: k })) {
      if (result.state !== 'exited' || result.exitCode !== 0) failures++;
    }
    await launcher.deletesSettled(); // deleted, as the foreground run's are
  } finally {
    await launcher.close(); // waits for every delete
  }
  return { ms: performance.now() - began, failures };
}

async function bareSide(
  launcherDir: string,
  runtime: string,
  bundle: string,
  count: number,
  k: number,
  tag: string,
): Promise<{ ms: number; failures: number }> {
  // The same binary, bundle and (crun on a hybrid host) mount namespace as the launcher uses.
  const launcher = await Launcher.open({ stateDir: launcherDir, runtime });
  try {
    const { path, mountNamespace } = launcher.runtime;
    const root = join(launcherDir, 'runtime', 'bare');
    mkdirSync(root, { recursive: true, mode: 0o700 });
    native().spreadSubdirectories(root); // as salvo's own root: the runtime's state costs both sides the same
    const script = `seq ${count} | xargs -P ${k} -I{} ${path} --root ${root} run --bundle ${bundle} e2e-b-${tag}-{} >/dev/null 2>&1`;
    const argv = mountNamespace === null ? ['sh', ['-c', script]] : ['nsenter', [`--mount=${mountNamespace}`, '--', 'sh', '-c', script]];
    const began = performance.now();
    let failures = 0;
    try {
      await run(argv[0] as string, argv[1] as string[]);
    } catch {
      failures = 1; // xargs exits 123 when any run failed: the count is not known, only that
    }
    return { ms: performance.now() - began, failures };
  } finally {
    await launcher.close();
  }
}

/**
 * The same jobs (one JSON line each) through `salvo batch` in a CLI process of its own, on a state
 * directory of its own. Cold: the serving launcher is stopped first (untimed), so the command starts one.
 */
async function cliSide(
  runtime: string,
  dir: string,
  bundle: string,
  count: number,
  k: number,
  tag: string,
  serving: 'up' | 'none',
): Promise<{ ms: number; failures: number }> {
  const stateDir = join(dir, 'cli');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, `jobs-${tag}.jsonl`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => `${JSON.stringify({ id: `e2e-c-${tag}-${i}`, bundle, stdio: 'null' })}\n`).join(''));
  if (serving === 'none') await stopServing(stateDir);
  const args = [CLI_MAIN, 'batch', file, '--state-dir', stateDir, '--runtime', runtime, '--concurrency', String(k), '--no-progress'];
  const began = performance.now();
  let failures = 0;
  try {
    await run(process.execPath, args);
  } catch {
    failures = 1; // exit 1: some job failed; the count is in its output, the ratio is what matters here
  }
  return { ms: performance.now() - began, failures };
}

/** `node -e 0`, median of 3: what any CLI command pays before its first line of salvo. */
async function nodeStartMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const began = performance.now();
    await run(process.execPath, ['-e', '0']);
    times.push(performance.now() - began);
  }
  return times.sort((a, b) => a - b)[1] as number;
}

async function stopServing(stateDir: string): Promise<void> {
  await run(process.execPath, [CLI_MAIN, 'serve', '--stop', '--state-dir', stateDir]).catch(() => undefined);
}

export async function runE2e(options: E2eOptions): Promise<E2eRow[]> {
  const rows: E2eRow[] = [];
  for (const runtime of options.runtimes) {
    const dir = join(options.stateDir, 'bench-e2e', basename(runtime));
    const ms = { salvo: 0, bare: 0, warm: 0, cold: 0 };
    const failures = { salvo: 0, bare: 0, cli: 0 };
    const per = Math.max(1, Math.floor(options.count / options.rounds));
    const bundle = await bundleFor(runtime, dir);
    // Untimed: the serving launcher the warm rounds find up (and the CLI's first load from disk).
    await cliSide(runtime, dir, bundle, 1, options.concurrency, `prime-${Date.now().toString(36)}`, 'up');
    try {
      for (let round = 0; round < options.rounds; round++) {
        const tag = `${Date.now().toString(36)}-${round}`;
        const sides = [
          async () => {
            const s = await salvoSide(runtime, dir, bundle, per, options.concurrency, tag);
            ms.salvo += s.ms;
            failures.salvo += s.failures;
          },
          async () => {
            const b = await bareSide(dir, runtime, bundle, per, options.concurrency, tag);
            ms.bare += b.ms;
            failures.bare += b.failures;
          },
          async () => {
            // The whole N per CLI call: its fixed cost (start-up, connecting) is paid once per command.
            const w = await cliSide(runtime, dir, bundle, options.count, options.concurrency, `w${tag}`, 'up');
            ms.warm += w.ms;
            failures.cli += w.failures;
            // Cold right after warm: the server the cold call starts is the next warm round's.
            const c = await cliSide(runtime, dir, bundle, options.count, options.concurrency, `c${tag}`, 'none');
            ms.cold += c.ms;
            failures.cli += c.failures;
          },
        ];
        if (round % 2 === 1) sides.reverse(); // ABBA
        for (const side of sides) await side();
      }
    } finally {
      await stopServing(join(dir, 'cli'));
    }
    const total = per * options.rounds;
    const rate = (spentMs: number): number => (total * 1000) / spentMs;
    rows.push({
      runtime,
      count: total,
      concurrency: options.concurrency,
      salvoJobsPerSec: rate(ms.salvo),
      bareJobsPerSec: rate(ms.bare),
      ratio: ms.bare / ms.salvo,
      cliWarmJobsPerSec: (options.count * options.rounds * 1000) / ms.warm,
      cliColdJobsPerSec: (options.count * options.rounds * 1000) / ms.cold,
      salvoFailures: failures.salvo,
      bareFailures: failures.bare,
      cliFailures: failures.cli,
      nodeStartMs: await nodeStartMs(),
    });
  }
  return rows;
}

/** The /bin/true bundle, made once for every side (salvo in-process, xargs, the CLI). */
async function bundleFor(runtime: string, dir: string): Promise<string> {
  const launcher = await Launcher.open({ stateDir: dir, runtime });
  try {
    return await trueBundle(launcher, dir);
  } finally {
    await launcher.close();
  }
}

export function formatE2eText(rows: readonly E2eRow[]): string {
  const rate = (v: number): string => v.toFixed(1).padStart(7);
  return rows
    .map(
      (r) =>
        `${r.runtime}: ${r.count} jobs of /bin/true at K = ${r.concurrency}, started, recorded and deleted\n` +
        `  salvo        ${rate(r.salvoJobsPerSec)} jobs/s${r.salvoFailures > 0 ? `  FAILED ${r.salvoFailures}` : ''}\n` +
        `  xargs run    ${rate(r.bareJobsPerSec)} jobs/s${r.bareFailures > 0 ? '  (some runs failed)' : ''}\n` +
        `  ratio salvo/xargs ${r.ratio.toFixed(3)}\n` +
        (r.cliWarmJobsPerSec === undefined
          ? ''
          : `  salvo batch, the CLI process, a serving launcher up   ${rate(r.cliWarmJobsPerSec)} jobs/s (${cliRatio(r, 'warm').toFixed(3)} × in-process)\n` +
            `  salvo batch, the CLI process, none serving (cold)     ${rate(r.cliColdJobsPerSec)} jobs/s (${cliRatio(r, 'cold').toFixed(3)} × in-process)` +
            `${r.cliFailures > 0 ? '  (some runs failed)' : ''}\n`),
    )
    .join('\n');
}

/** CLI jobs/s over in-process jobs/s (the in-process wall over the CLI's). */
export function cliRatio(row: E2eRow, serving: 'warm' | 'cold'): number {
  return (serving === 'warm' ? row.cliWarmJobsPerSec : row.cliColdJobsPerSec) / row.salvoJobsPerSec;
}
