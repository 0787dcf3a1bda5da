// `salvo` in a child process, as the crash and shutdown tests drive it: ND-JSON events read as
// they come, so a test can act (SIGKILL, SIGTERM) at a chosen moment of a batch.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { JobResult, JobSpec } from '../../src/index.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export type BatchLine = ({ event: 'started'; id: string; pid: number } | ({ event: 'finished' } & JobResult) | { event: 'summary' }) & {
  event: string;
};

export interface CliChild {
  child: ChildProcess;
  /** Every ND-JSON line so far. */
  lines: BatchLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function writeJobs(dir: string, jobs: JobSpec[]): string {
  const file = join(dir, 'jobs.jsonl');
  writeFileSync(file, `${jobs.map((job) => JSON.stringify(job)).join('\n')}\n`);
  return file;
}

/** Runs `salvo <args>` with its state directory and runtime; stdout is parsed as ND-JSON. */
export function salvoChild(stateDir: string, runtime: string, args: string[]): CliChild {
  const child = spawn(process.execPath, [MAIN, '--runtime', runtime, ...args], {
    env: { ...process.env, SALVO_STATE_DIR: stateDir, NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: BatchLine[] = [];
  let errors = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{')) lines.push(JSON.parse(line) as BatchLine);
  });
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, lines, stderr: () => errors, exited };
}

/** The pid a batch reported for a started job, or undefined. */
export function startedPid(run: CliChild, id: string): number | undefined {
  const line = run.lines.find((l) => l.event === 'started' && l.id === id) as { pid: number } | undefined;
  return line?.pid;
}

export function finished(run: CliChild, id: string): JobResult | undefined {
  return run.lines.find((l) => l.event === 'finished' && (l as JobResult).id === id) as JobResult | undefined;
}

/** The pid of the launcher serving the state directory (the state lock names its holder), or null. */
export function servingPid(stateDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(stateDir, 'lock'), 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Stops the serving launcher the commands started (containers keep running) and waits until it is gone. */
export async function stopServing(stateDir: string, runtime: string): Promise<void> {
  const pid = servingPid(stateDir);
  await salvoChild(stateDir, runtime, ['serve', '--stop']).exited;
  for (let i = 0; pid !== null && i < 600 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
