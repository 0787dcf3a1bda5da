// `salvo bench --e2e`: N short jobs as a CI user runs them, end to end. Through the launcher:
// started (`run -d`), every exit recorded, every container deleted (timed until deletesSettled(): the
// deletes held behind starts count). Against, in the same run and interleaved: `seq N | xargs -P K <runtime> run`
// (foreground: the runtime waits for the container and deletes it; nothing is recorded).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
  salvoFailures: number;
  bareFailures: number;
}

/** The default bundle with /bin/true as its process, for both sides. */
async function trueBundle(launcher: Launcher, dir: string): Promise<string> {
  const bundle = join(dir, 'bundles', 'true');
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  const base = await launcher.defaultBundle();
  writeConfig(bundle, deriveConfig(loadBundleConfig(base), base, { args: ['/bin/true'] }));
  return bundle;
}

async function salvoSide(runtime: string, dir: string, count: number, k: number, tag: string): Promise<{ ms: number; failures: number }> {
  const launcher = await Launcher.open({ stateDir: dir, runtime, tasksPerWorker: Math.max(8, k * 2 + 2) });
  let failures = 0;
  let began = 0;
  try {
    const bundle = await trueBundle(launcher, dir);
    const jobs: JobSpec[] = Array.from({ length: count }, (_, i) => ({ id: `e2e-s-${tag}-${i}`, bundle, stdio: 'null' }));
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

async function bareSide(launcherDir: string, runtime: string, count: number, k: number, tag: string): Promise<{ ms: number; failures: number }> {
  // The same binary, bundle and (crun on a hybrid host) mount namespace as the launcher uses.
  const launcher = await Launcher.open({ stateDir: launcherDir, runtime });
  try {
    const { path, mountNamespace } = launcher.runtime;
    const root = join(launcherDir, 'runtime', 'bare');
    mkdirSync(root, { recursive: true, mode: 0o700 });
    native().spreadSubdirectories(root); // as salvo's own root: the runtime's state costs both sides the same
    const bundle = await trueBundle(launcher, launcherDir);
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

export async function runE2e(options: E2eOptions): Promise<E2eRow[]> {
  const rows: E2eRow[] = [];
  for (const runtime of options.runtimes) {
    const dir = join(options.stateDir, 'bench-e2e', basename(runtime));
    let salvoMs = 0;
    let bareMs = 0;
    let salvoFailures = 0;
    let bareFailures = 0;
    const per = Math.max(1, Math.floor(options.count / options.rounds));
    for (let round = 0; round < options.rounds; round++) {
      const tag = `${Date.now().toString(36)}-${round}`;
      const sides = [
        async () => {
          const s = await salvoSide(runtime, dir, per, options.concurrency, tag);
          salvoMs += s.ms;
          salvoFailures += s.failures;
        },
        async () => {
          const b = await bareSide(dir, runtime, per, options.concurrency, tag);
          bareMs += b.ms;
          bareFailures += b.failures;
        },
      ];
      if (round % 2 === 1) sides.reverse(); // ABBA
      for (const side of sides) await side();
    }
    const total = per * options.rounds;
    const salvoJobsPerSec = (total * 1000) / salvoMs;
    const bareJobsPerSec = (total * 1000) / bareMs;
    rows.push({
      runtime,
      count: total,
      concurrency: options.concurrency,
      salvoJobsPerSec,
      bareJobsPerSec,
      ratio: salvoJobsPerSec / bareJobsPerSec,
      salvoFailures,
      bareFailures,
    });
  }
  return rows;
}

export function formatE2eText(rows: readonly E2eRow[]): string {
  return rows
    .map(
      (r) =>
        `${r.runtime}: ${r.count} jobs of /bin/true at K = ${r.concurrency}, started, recorded and deleted\n` +
        `  salvo        ${r.salvoJobsPerSec.toFixed(1).padStart(7)} jobs/s${r.salvoFailures > 0 ? `  FAILED ${r.salvoFailures}` : ''}\n` +
        `  xargs run    ${r.bareJobsPerSec.toFixed(1).padStart(7)} jobs/s${r.bareFailures > 0 ? '  (some runs failed)' : ''}\n` +
        `  ratio salvo/xargs ${r.ratio.toFixed(3)}\n`,
    )
    .join('\n');
}
