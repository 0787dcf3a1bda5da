// The bare-runtime baseline, in its own small process: `runtime run -d` for each id, K at a
// time, no exit tracking. It is a child subreaper so the container inits it leaves behind come
// back to it (not to the launcher under test); it reaps them and deletes the containers after
// the timed part.
import { spawn } from 'node:child_process';
import { listMainThreadChildren, readProcStat } from '../io/procfs.js';
import { native } from '../native.js';
import { childrenCpuMs, selfCpuMs } from './cpu.js';
import { pool } from './pool.js';

export interface BaselineInput {
  /** The runtime invocation: file and prefix (a namespace wrapper, or nothing). */
  file: string;
  prefix: string[];
  /** The runtime binary itself (the C driver enters the namespace on its own). */
  realPath: string;
  root: string;
  bundle: string;
  ids: string[];
  concurrency: number;
}

export interface BaselineOutput {
  wallMs: number;
  /** Per start: spawn of `run -d` to its exit, ms. */
  latencies: number[];
  failures: number;
  firstError: string | null;
  /** This driver's own CPU, and that of the runtimes and containers it waited for, ms. */
  driverCpuMs: number;
  childrenCpuMs: number;
  deleteWallMs: number;
}

function runOnce(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Reaps the zombies re-parented to this subreaper (libuv's own children are gone by now). */
function reapZombies(): void {
  for (const pid of listMainThreadChildren()) {
    if (readProcStat(pid)?.state === 'Z') {
      try {
        native().waitPid(pid);
      } catch {
        // taken meanwhile
      }
    }
  }
}

export async function runBaseline(input: BaselineInput): Promise<BaselineOutput> {
  native().setChildSubreaper();
  const base = [...input.prefix, '--root', input.root];
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | null = null;
  const cpu0 = selfCpuMs();
  const childrenBefore = childrenCpuMs();
  const began = performance.now();
  await pool(input.ids, input.concurrency, async (id) => {
    const t0 = performance.now();
    const { code, stderr } = await runOnce(input.file, [...base, 'run', '-d', '--bundle', input.bundle, id]);
    latencies.push(performance.now() - t0);
    if (code !== 0) {
      failures++;
      firstError ??= stderr.trim() || `exit ${code}`;
    }
  });
  const wallMs = performance.now() - began;
  // Container inits exit at once (/bin/true): give them a moment, then collect them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  reapZombies();
  const driverCpuMs = selfCpuMs() - cpu0;
  const childrenCpu = childrenCpuMs() - childrenBefore;
  const deleteBegan = performance.now();
  await pool(input.ids, input.concurrency, async (id) => {
    await runOnce(input.file, [...base, 'delete', '--force', id]);
  });
  reapZombies();
  return {
    wallMs,
    latencies,
    failures,
    firstError,
    driverCpuMs,
    childrenCpuMs: childrenCpu,
    deleteWallMs: performance.now() - deleteBegan,
  };
}
