// The soak: many containers through launcher.batch with random exit codes, random short sleeps
// and random SIGKILL/SIGTERM from outside, then every claim of "exactly once, nothing left"
// checked. Shared by test/reliability/soak.test.ts (CI size) and scripts/soak.js (any size).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Launcher } from '../../src/index.js';
import type { BatchEvent, JobResult, JobSpec } from '../../src/index.js';
import { runtimeContainers, zombieChildren } from '../helpers.js';

export interface SoakOptions {
  runtime: string;
  count: number;
  stateDir: string;
  /** Runtime starts in flight at once. Default 8. */
  concurrency?: number;
  /** Seed of the random plan; printed in the report so that a failure can be replayed. */
  seed?: number;
  /** Orphans (a killed sh's sleep) are reaped this long after they die. Default 1 s. */
  orphanGraceMs?: number;
}

export interface SoakReport {
  runtime: string;
  seed: number;
  launches: number;
  /** Results whose exit code, signal, store record and exitStatus file were all checked. */
  exitsChecked: number;
  killedFromOutside: number;
  lost: number;
  /** One line per job whose result, record or exitStatus is wrong or missing. */
  wrong: string[];
  zombies: number;
  leakedFds: number;
  /** What the fds open after close but not before point at. */
  leakedFdTargets: string[];
  leftInRuntime: string[];
  wallMs: number;
  waitedMs: number;
}

type Plan =
  /** Exits by itself with `code`, maybe after a short sleep. */
  | { kind: 'exit'; code: number; sleepMs: number }
  /** `sleep 30`, sent `signal` from outside `afterMs` after it started, by pid or through the runtime. */
  | { kind: 'kill'; signal: 'SIGKILL' | 'SIGTERM'; by: 'pid' | 'runtime'; afterMs: number }
  /** Exits with `code` after sleepMs unless the SIGKILL sent at about the same time wins: either is right. */
  | { kind: 'race'; code: number; sleepMs: number; afterMs: number };

const SIGNAL_NUMBERS = { SIGTERM: 15, SIGKILL: 9 } as const;

/** mulberry32: a small seeded generator, so that a failing plan can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function soakPlan(count: number, seed: number): Plan[] {
  const next = random(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return Array.from({ length: count }, (): Plan => {
    const roll = next();
    if (roll < 0.45) return { kind: 'exit', code: int(256), sleepMs: 0 };
    if (roll < 0.7) return { kind: 'exit', code: int(256), sleepMs: 5 + int(150) };
    if (roll < 0.92) {
      return { kind: 'kill', signal: next() < 0.5 ? 'SIGKILL' : 'SIGTERM', by: next() < 0.5 ? 'pid' : 'runtime', afterMs: int(100) };
    }
    return { kind: 'race', code: int(256), sleepMs: 20 + int(40), afterMs: int(80) };
  });
}

function jobOf(plan: Plan, id: string): JobSpec {
  switch (plan.kind) {
    case 'exit':
      return { id, args: ['/bin/sh', '-c', plan.sleepMs === 0 ? `exit ${plan.code}` : `sleep ${plan.sleepMs / 1000}; exit ${plan.code}`] };
    case 'kill':
      return { id, args: ['/bin/sleep', '30'], stdio: 'null' };
    case 'race':
      return { id, args: ['/bin/sh', '-c', `sleep ${plan.sleepMs / 1000}; exit ${plan.code}`] };
  }
}

/** The (exit code, signal) pairs a plan may end with. */
function allowedExits(plan: Plan): [number, string | null][] {
  switch (plan.kind) {
    case 'exit':
      return [[plan.code, null]];
    case 'kill':
      return [[128 + SIGNAL_NUMBERS[plan.signal], plan.signal]];
    case 'race':
      return [
        [plan.code, null],
        [137, 'SIGKILL'],
      ];
  }
}

/** The open flags of an fd, as /proc/self/fdinfo shows them (octal). */
function fdFlags(fd: string): string {
  try {
    return /^flags:\s*(\S+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'closed';
  }
}

/** This process's open fds and what each points at. */
export function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the fd of the directory listing itself, closed already
    }
  }
  return fds;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const plans = soakPlan(options.count, seed);
  const batchId = `soak${seed.toString(36)}`;
  const ids = plans.map((_, i) => `${batchId}-${i}`);
  const launcherOptions = { stateDir: options.stateDir, runtime: options.runtime, orphanGraceMs: options.orphanGraceMs ?? 1000 };

  // A first launcher lets Node make its lazy, lasting fds before counting: the signal pipe, the
  // thread pool, and the /dev/null libuv keeps after the main thread's first spawn (busybox --list).
  const warmup = await Launcher.open(launcherOptions);
  await warmup.defaultBundle();
  await warmup.close();
  const fdsBefore = openFds();
  const launcher = await Launcher.open(launcherOptions);
  const timers = new Set<NodeJS.Timeout>();
  let killedFromOutside = 0;

  const sendSignal = (index: number, pid: number): void => {
    const plan = plans[index] as Plan;
    if (plan.kind === 'exit') return;
    const id = ids[index] as string;
    const signal = plan.kind === 'kill' ? plan.signal : 'SIGKILL';
    const timer = setTimeout(() => {
      timers.delete(timer);
      // Running in the store means not reaped yet: the pid is still this container's, never a reused one.
      if (launcher.get(id)?.state !== 'running') return;
      killedFromOutside++;
      if (plan.kind === 'kill' && plan.by === 'runtime') void launcher.kill(id, signal).catch(() => undefined);
      else process.kill(pid, signal);
    }, plan.afterMs);
    timers.add(timer);
  };

  const results: JobResult[] = [];
  const began = Date.now();
  try {
    const onEvent = (event: BatchEvent): void => {
      if (event.type === 'started' && event.pid !== undefined) sendSignal(event.index, event.pid);
    };
    const jobs = plans.map((plan, i) => jobOf(plan, ids[i] as string));
    for await (const result of launcher.batch(jobs, { concurrency: options.concurrency ?? 8, batchId, onEvent })) {
      results.push(result);
    }
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  const wallMs = Date.now() - began;

  const wrong: string[] = [];
  let exitsChecked = 0;
  const seen = new Map<number, number>();
  for (const r of results) seen.set(r.index, (seen.get(r.index) ?? 0) + 1);
  for (let i = 0; i < plans.length; i++) {
    if (seen.get(i) !== 1) wrong.push(`job ${i}: ${seen.get(i) ?? 0} results`);
  }
  const records = launcher.list({ batchId });
  const recordsById = new Map(records.map((r) => [r.id, r]));
  if (records.length !== plans.length) wrong.push(`${records.length} records for ${plans.length} jobs`);
  const lost = results.filter((r) => r.state === 'lost').length + records.filter((r) => r.state === 'lost').length;
  for (const result of results) {
    const plan = plans[result.index] as Plan;
    const record = recordsById.get(result.id);
    const at = `${result.id} (${JSON.stringify(plan)})`;
    if (result.state !== 'exited' || record?.state !== 'exited') {
      wrong.push(`${at}: result ${result.state} ${result.error?.code ?? ''} ${result.error?.message ?? ''}, record ${record?.state}`);
      continue;
    }
    const allowed = allowedExits(plan).some(([code, signal]) => result.exitCode === code && result.signal === signal);
    if (!allowed) wrong.push(`${at}: exit ${result.exitCode} signal ${result.signal}`);
    if (record.exitCode !== result.exitCode || record.signal !== result.signal) {
      wrong.push(`${at}: record says ${record.exitCode}/${record.signal}, result ${result.exitCode}/${result.signal}`);
    }
    let status = '';
    try {
      status = readFileSync(join(record.dir, 'exitStatus'), 'utf8');
    } catch {
      // missing: reported below
    }
    if (status !== `${record.exitCode}\n`) wrong.push(`${at}: exitStatus ${JSON.stringify(status)}, record ${record.exitCode}`);
    exitsChecked++;
  }

  await launcher.close();
  const fdsAfter = openFds();
  const zombies = zombieChildren();
  const leftInRuntime = runtimeContainers(launcher);
  return {
    runtime: options.runtime,
    seed,
    launches: results.filter((r) => r.startedAt !== null).length,
    exitsChecked,
    killedFromOutside,
    lost,
    wrong,
    zombies: zombies.length,
    leakedFds: fdsAfter.size - fdsBefore.size,
    leakedFdTargets: [...fdsAfter]
      .filter(([fd, target]) => fdsBefore.get(fd) !== target)
      .map(([fd, target]) => `${fd} -> ${target} (${fdFlags(fd)})`),
    leftInRuntime,
    wallMs,
    waitedMs: results.reduce((sum, r) => sum + r.timings.waitedMs, 0),
  };
}

export function formatSoakReport(report: SoakReport): string {
  const rate = report.launches / Math.max(report.wallMs / 1000, 0.001);
  return (
    `${report.runtime}: launches ${report.launches}, exits checked ${report.exitsChecked}, ` +
    `killed from outside ${report.killedFromOutside}, lost ${report.lost}, wrong ${report.wrong.length}, ` +
    `zombies ${report.zombies}, leaked fds ${report.leakedFds}, left in runtime ${report.leftInRuntime.length}, ` +
    `${(report.wallMs / 1000).toFixed(1)} s (${rate.toFixed(1)} starts/s), seed ${report.seed}`
  );
}
