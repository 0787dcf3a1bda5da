// `salvo worker` and `salvo submit` as child processes for the fleet tests and bench.
import { readdirSync, readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import type { FleetResult } from '../../src/fleet/index.js';
import { removeTempDirs } from '../helpers.js';
import { salvoChild, type CliChild } from '../reliability/cli-child.js';
import { startRedis, type RedisServer } from './redis-server.js';

export interface WorkerChild extends CliChild {
  name: string;
  stateDir: string;
}

/** Short lock and stalled settings, so a lost node's jobs come back within seconds. */
export const FAST_STALL = ['--lock-duration', '3s', '--stalled-interval', '1s'];

export function startWorker(redisUrl: string, queue: string, name: string, stateDir: string, runtime: string, extra: string[] = []): WorkerChild {
  const child = salvoChild(stateDir, runtime, ['worker', '--redis', redisUrl, '--queue', queue, '--name', name, '--ndjson', ...extra]);
  return { ...child, name, stateDir };
}

/** What a worker printed: the results it completed. */
export function workerResults(worker: CliChild): FleetResult[] {
  return worker.lines.filter((l) => l.event === 'finished') as unknown as FleetResult[];
}

export function submitChild(redisUrl: string, queue: string, file: string, extra: string[]): CliChild {
  return salvoChild('/nonexistent-state-dir', 'runc', ['submit', file, '--redis', redisUrl, '--queue', queue, ...extra]);
}

/** Waits until `condition` holds, polling; fails after `ms` with `what`. */
export async function until(condition: () => boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Child pids of a process (all its threads) that are zombies. */
export function zombiesOf(pid: number): number[] {
  const zombies: number[] = [];
  const children: string[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) children.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '));
  } catch {
    return [];
  }
  for (const child of children.filter((p) => p.trim() !== '')) {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) zombies.push(Number(child));
    } catch {
      // gone
    }
  }
  return zombies;
}

/** A private Redis for a describe block and the workers its tests start: both are gone after it. */
export function fleetFixture(): { redis: () => RedisServer; workers: WorkerChild[] } {
  let server: RedisServer | undefined;
  const workers: WorkerChild[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await server?.dispose();
    removeTempDirs();
  });
  return { redis: () => server as RedisServer, workers };
}
