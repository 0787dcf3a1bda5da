// `npm run bench:fleet`: `sleep 1` jobs through a BullMQ queue on a private redis-server, drained
// by 1 and by 3 `salvo worker` processes (throughput ratio), and the queue's cost per job
// (submit → result, minus the job's run time) beside a local launcher.batch of the same jobs.
// Writes bench/fleet-results.json and the "Fleet" section of bench/RESULTS.md (between markers).
// Sizes: SALVO_BENCH_FLEET_JOBS (96), SALVO_BENCH_FLEET_K (4 jobs per worker), SALVO_BENCH_FLEET_COST_JOBS (24).
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetStatus, results, submit } from '../src/fleet/index.js';
import { Launcher } from '../src/index.js';
import { tempDir, removeTempDirs } from '../test/helpers.js';
import { startRedis, type RedisServer } from '../test/fleet/redis-server.js';
import { startWorker, type WorkerChild } from '../test/fleet/fleet-children.js';

const env = process.env;
const jobsCount = Number(env.SALVO_BENCH_FLEET_JOBS ?? 96);
const perWorker = Number(env.SALVO_BENCH_FLEET_K ?? 4);
const costJobs = Number(env.SALVO_BENCH_FLEET_COST_JOBS ?? 24);
const runtime = env.SALVO_BENCH_RUNTIME ?? 'runc';
const resultsFile = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
const rawFile = fileURLToPath(new URL('../../bench/fleet-results.json', import.meta.url));
const log = (line: string): boolean => process.stderr.write(`bench:fleet: ${line}\n`);
const sleepJob = (id: string): { id: string; args: string[] } => ({ id, args: ['/bin/sleep', '1'] });

interface Drain {
  workers: number;
  jobs: number;
  wallMs: number;
  perSecond: number;
}

interface Cost {
  how: string;
  jobs: number;
  p50Ms: number;
  p99Ms: number;
}

async function startWorkers(redis: RedisServer, queue: string, count: number, concurrency: number): Promise<WorkerChild[]> {
  const workers = Array.from({ length: count }, (_, i) =>
    startWorker(redis.url, queue, `flt-b${i + 1}`, join(tempDir('salvo-fleet-bench-'), 'state'), runtime, ['--concurrency', String(concurrency)]),
  );
  for (;;) {
    const status = await fleetStatus({ redis: redis.url, queue });
    if (status.workers.filter((w) => w.info !== null).length === count) return workers;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopWorkers(workers: WorkerChild[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

/** Submits the jobs and follows them; per job: submit → result minus its run time. */
async function throughQueue(redis: RedisServer, queue: string, ids: string[]): Promise<{ wallMs: number; costs: number[] }> {
  const began = Date.now();
  const submitted = await submit(ids.map(sleepJob), { redis: redis.url, queue });
  const costs: number[] = [];
  for await (const result of results(submitted.ids, { redis: redis.url, queue })) {
    if (result.state !== 'exited' || result.exitCode !== 0) throw new Error(`${result.id}: ${result.state} ${result.exitCode}`);
    costs.push(Date.now() - result.addedAt - result.timings.runMs);
  }
  return { wallMs: Date.now() - began, costs };
}

async function drain(redis: RedisServer, workers: number): Promise<Drain> {
  const queue = `flt-bench-drain-${workers}`;
  const pool = await startWorkers(redis, queue, workers, perWorker);
  try {
    const ids = Array.from({ length: jobsCount }, (_, i) => `flt-bd${workers}-${i}`);
    const { wallMs } = await throughQueue(redis, queue, ids);
    log(`${jobsCount} jobs, ${workers} worker(s) × ${perWorker}: ${(wallMs / 1000).toFixed(2)} s`);
    return { workers, jobs: jobsCount, wallMs, perSecond: jobsCount / (wallMs / 1000) };
  } finally {
    await stopWorkers(pool);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function queueCost(redis: RedisServer): Promise<Cost> {
  // One worker with a slot for every job and 4 starts in flight, as the local batch: the difference is the queue.
  const queue = 'flt-bench-cost';
  const pool = await startWorkers(redis, queue, 1, costJobs);
  try {
    const { costs } = await throughQueue(
      redis,
      queue,
      Array.from({ length: costJobs }, (_, i) => `flt-bc-${i}`),
    );
    return { how: `fleet: 1 worker × ${costJobs} (4 starts in flight)`, jobs: costJobs, p50Ms: percentile(costs, 50), p99Ms: percentile(costs, 99) };
  } finally {
    await stopWorkers(pool);
  }
}

async function localCost(): Promise<Cost> {
  const launcher = await Launcher.open({ stateDir: join(tempDir('salvo-fleet-bench-'), 'state'), runtime, tasksPerWorker: 10 });
  try {
    await launcher.defaultBundle();
    const began = Date.now();
    const costs: number[] = [];
    const jobs = Array.from({ length: costJobs }, (_, i) => sleepJob(`flt-bl-${i}`));
    for await (const result of launcher.batch(jobs, { concurrency: 4 })) costs.push(Date.now() - began - result.timings.runMs);
    return { how: 'local launcher.batch (concurrency 4)', jobs: costJobs, p50Ms: percentile(costs, 50), p99Ms: percentile(costs, 99) };
  } finally {
    await launcher.close();
  }
}

function markdown(one: Drain, three: Drain, costs: Cost[], load: string): string {
  const ratio = three.perSecond / one.perSecond;
  return [
    '<!-- fleet: written by npm run bench:fleet (bench/fleet.ts) -->',
    '## Fleet: a BullMQ queue on Redis, 1 and 3 `salvo worker` processes (runc)',
    '',
    `Written by \`npm run bench:fleet\` on ${new Date().toISOString()}: a private redis-server on 127.0.0.1, workers as child processes on this machine (separate state directories), \`sleep 1\` jobs, ${perWorker} jobs at once per worker.`,
    '',
    '| workers | jobs | wall | jobs/s |',
    '|---|---|---|---|',
    ...[one, three].map((d) => `| ${d.workers} | ${d.jobs} | ${(d.wallMs / 1000).toFixed(2)} s | ${d.perSecond.toFixed(2)} |`),
    '',
    `Throughput 3 workers / 1 worker: **${ratio.toFixed(2)}×** (target ≥ 2.7×: ${ratio >= 2.7 ? 'met' : 'missed'}). Load average of the machine (1 min) at the start and end of the run: ${load} on 2 cores; other work shares them, and every container start is CPU work on those same cores.`,
    '',
    'Queue cost per job: from submit (the job added) to its result received, minus its run time; one worker with a slot for every job and, as the local row, 4 runtime starts in flight, so both include the same start queue; the local row is the same jobs through `launcher.batch` in one process (from the batch call to the result, minus run time). The difference is what the queue costs: adding the job, a worker taking it, completing it, the result event.',
    '',
    '| how | jobs | p50 | p99 |',
    '|---|---|---|---|',
    ...costs.map((c) => `| ${c.how} | ${c.jobs} | ${c.p50Ms.toFixed(0)} ms | ${c.p99Ms.toFixed(0)} ms |`),
    '',
    'The jobs sleep, so three workers on one machine can run three times as many at once. CPU-bound jobs cannot scale so on this 2-core machine: three workers share the same two cores, and the scaling shown here needs the workers on separate machines.',
    '<!-- /fleet -->',
    '',
  ].join('\n');
}

const loadAtStart = loadavg()[0]!.toFixed(1);
const redis = await startRedis();
try {
  log(`redis-server on ${redis.url}`);
  const one = await drain(redis, 1);
  const three = await drain(redis, 3);
  const costs = [await queueCost(redis), await localCost()];
  for (const c of costs) log(`${c.how}: p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms`);
  writeFileSync(rawFile, `${JSON.stringify({ one, three, costs }, null, 2)}\n`);
  const section = markdown(one, three, costs, `${loadAtStart} → ${loadavg()[0]!.toFixed(1)}`);
  const current = readFileSync(resultsFile, 'utf8');
  const marked = /<!-- fleet:[\s\S]*<!-- \/fleet -->\n?/;
  writeFileSync(resultsFile, marked.test(current) ? current.replace(marked, section) : `${current.trimEnd()}\n\n${section}`);
  log(`ratio ${(three.perSecond / one.perSecond).toFixed(2)}×; wrote ${resultsFile}`);
} finally {
  await redis.dispose();
  removeTempDirs();
}
