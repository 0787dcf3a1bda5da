// `npm run bench:commands`: what one CLI command costs through a serving launcher, against bare
// `runc run` and `node -e 0`, interleaved in one run (ratios from the same minutes); writes
// bench/commands.md, which bench/RESULTS.md includes. Rounds: SALVO_BENCH_ROUNDS (21).
// `salvo run` is also timed from a client already loaded in this process (connect(), start with
// fifos, output to its end, exit): what the serving launcher adds to `runc run`, without the cost
// of starting a Node process, which the `salvo run` row minus that one shows.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { connect } from '../src/server/connect.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const OUT = fileURLToPath(new URL('../../bench/commands.md', import.meta.url));
const rounds = Number(process.env.SALVO_BENCH_ROUNDS ?? 21);
const scratch = mkdtempSync(join(tmpdir(), 'salvo-bench-commands-'));
const stateDir = join(scratch, 'state');
const env = { ...process.env, SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: 'runc', SALVO_IDLE_EXIT: '0' };

/** CPU (user + system) of this process's waited-for children so far: /proc/self/stat cutime + cstime, in ms. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) * 10; // clock ticks of 10 ms (USER_HZ 100)
}

const cpu: Record<string, number[]> = {};

/** Wall time of one run of the command; its CPU time (the client's, not the server's) goes to `cpu`. */
function wallMs(file: string, args: string[], name: string): number {
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  execFileSync(file, args, { env, stdio: 'ignore' });
  const wall = performance.now() - start;
  (cpu[name] ??= []).push(childrenCpuMs() - cpuBefore);
  return wall;
}

/** One `salvo run -- /bin/true` of a client already loaded: start with fifos, both outputs to their end, the exit. */
async function inProcessRunMs(client: Awaited<ReturnType<typeof connect>>, seq: number): Promise<number> {
  const start = performance.now();
  const proc = await client.start({ id: `cmdbench-in-${seq}`, args: ['/bin/true'], stdio: 'fifo' });
  const ended = [proc.stdout, proc.stderr].map((stream) => (stream === null ? null : new Promise((done) => stream.on('close', done).resume())));
  await Promise.all([proc.exited, ...ended]);
  return performance.now() - start;
}

const mean = (xs: number[] | undefined): number => (xs === undefined || xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  // A warm serving launcher (started by the first command), which also builds the busybox bundle.
  execFileSync(process.execPath, [MAIN, 'run', '--', '/bin/true'], { env, stdio: 'ignore' });
  const bundle = join(scratch, 'bundle');
  mkdirSync(bundle);
  const source = findBundle(join(stateDir, 'bundles'));
  const config = deriveConfig(loadBundleConfig(source), source, { args: ['/bin/true'] });
  writeConfig(bundle, config);
  const runcRoot = join(scratch, 'runc-root');
  const rows: Record<string, number[]> = {
    'node -e 0': [],
    'salvo --version': [],
    'salvo ps': [],
    'runc run /bin/true': [],
    'salvo run -- /bin/true': [],
    'in-process run': [],
  };
  const client = await connect(stateDir);
  let seq = 0;
  const steps: [string, () => number | Promise<number>][] = [
    ['node -e 0', () => wallMs(process.execPath, ['-e', '0'], 'node -e 0')],
    ['salvo --version', () => wallMs(process.execPath, [MAIN, '--version'], 'salvo --version')],
    ['salvo ps', () => wallMs(process.execPath, [MAIN, 'ps'], 'salvo ps')],
    [
      'runc run /bin/true',
      () => wallMs('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `cmdbench-${Math.random().toString(36).slice(2)}`], 'runc run /bin/true'),
    ],
    ['salvo run -- /bin/true', () => wallMs(process.execPath, [MAIN, 'run', '--', '/bin/true'], 'salvo run -- /bin/true')],
    ['in-process run', () => inProcessRunMs(client, seq++)],
  ];
  for (let round = 0; round < rounds; round++) {
    // Rotated order: no step always runs right after the same other one.
    for (let i = 0; i < steps.length; i++) {
      const [name, step] = steps[(i + round) % steps.length] as [string, () => number | Promise<number>];
      (rows[name] as number[]).push(await step());
    }
  }
  await client.close();
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
  const ms = (x: number | undefined): string => `${(x ?? 0).toFixed(0)} ms`;
  const c = (name: string): number => mean(cpu[name]);
  const node = m['node -e 0'] as number;
  const runc = m['runc run /bin/true'] as number;
  const run = m['salvo run -- /bin/true'] as number;
  const inProcess = m['in-process run'] as number;
  // What starting the client costs beyond `node -e 0`: the CLI's run less the same run from a loaded client.
  const clientStart = run - inProcess - node;
  const lines = [
    '## Per-command cost through a serving launcher',
    '',
    `Written by \`npm run bench:commands\` (bench/commands.ts) on ${new Date().toISOString()}: medians of ${rounds} interleaved rounds, wall time of the whole process and the mean CPU time of the client process (10 ms ticks; the server's is not in it), warm serving launcher (runc); load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores. The ratios hold within the run; \`node -e 0\` alone is a floor no Node client gets under, so the issue's 1.5 × runc run for the whole command stays missed by design: the proposed targets split it into the serving launcher's share (a client already loaded, against \`runc run\`) and the client's start-up (against \`node -e 0\`).`,
    '',
    '| command | median wall | client CPU (mean) | against | target | verdict |',
    '|---|---|---|---|---|---|',
    `| \`node -e 0\` | ${ms(node)} | ${ms(c('node -e 0'))} | | | |`,
    `| \`salvo --version\` | ${ms(m['salvo --version'])} | ${ms(c('salvo --version'))} | +${ms((m['salvo --version'] as number) - node)} over node (CPU +${ms(c('salvo --version') - c('node -e 0'))}) | ≤ +100 ms | ${(m['salvo --version'] as number) - node <= 100 ? 'met' : 'missed'} |`,
    `| \`salvo ps\` | ${ms(m['salvo ps'])} | ${ms(c('salvo ps'))} | +${ms((m['salvo ps'] as number) - node)} over node (CPU +${ms(c('salvo ps') - c('node -e 0'))}) | ≤ +100 ms | ${(m['salvo ps'] as number) - node <= 100 ? 'met' : 'missed'} |`,
    `| \`runc run\` (bare, foreground) | ${ms(runc)} | ${ms(c('runc run /bin/true'))} | | | |`,
    `| \`salvo run -- /bin/true\` | ${ms(run)} | ${ms(c('salvo run -- /bin/true'))} | ${(run / runc).toFixed(2)} × runc run | ≤ 1.5 × | ${run / runc <= 1.5 ? 'met' : 'missed'} |`,
    `| \`salvo run -- /bin/true\` from a loaded client (the server's share) | ${ms(inProcess)} | | ${(inProcess / runc).toFixed(2)} × runc run | ≤ 1.5 × (proposed, for the server) | ${inProcess / runc <= 1.5 ? 'met' : 'missed'} |`,
    `| \`salvo run -- /bin/true\`: the client's start-up | ${ms(clientStart)} | | run − loaded-client run − \`node -e 0\` | ≤ +100 ms over node (proposed, as ps) | ${clientStart <= 100 ? 'met' : 'missed'} |`,
    `| \`salvo run -- /bin/true\` | ${ms(run)} | | node + ${ms(run - node)} | ≤ node + 100 ms + 1.5 × runc run = ${ms(node + 100 + 1.5 * runc)} (proposed: both above) | ${run <= node + 100 + 1.5 * runc ? 'met' : 'missed'} |`,
    '',
  ];
  writeFileSync(OUT, lines.join('\n'));
  process.stdout.write(lines.join('\n'));
} finally {
  try {
    execFileSync(process.execPath, [MAIN, 'serve', '--stop'], { env, stdio: 'ignore' });
  } catch {
    // not serving
  }
  rmSync(scratch, { recursive: true, force: true });
}

/** The one bundle directory salvo built (bundles/<hash>/config.json). */
function findBundle(dir: string): string {
  for (const name of readdirSync(dir)) if (existsSync(join(dir, name, 'config.json'))) return join(dir, name);
  throw new Error(`no bundle under ${dir}`);
}
