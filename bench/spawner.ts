// The spawner row of bench/micro: spawns per second and the parent's CPU per spawn of /bin/true,
// through the native vfork spawner and through execa (a fork of Node), with a V8 heap of ~100 MB
// and ~500 MB: why the hot path does not fork (DESIGN §5, §12). Each case runs in its own process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { spawnNativeOnce } from '../src/runtime/native-spawn.js';
import type { MicroResult } from './harness.js';

const run = promisify(execFile);
const SPAWNS = 300;
const AT_ONCE = 4;

export interface SpawnerCase {
  spawner: 'native' | 'execa';
  heapMb: number;
}

/** In this process: grows the heap to `heapMb`, then times SPAWNS spawns of /bin/true, AT_ONCE at a time. */
export async function measureSpawner({ spawner, heapMb }: SpawnerCase): Promise<{ spawnsPerSec: number; cpuMsPerSpawn: number; rssMb: number }> {
  // Packed double arrays: 8 bytes an element, on the V8 heap, every page touched.
  const ballast = Array.from({ length: Math.round(heapMb / 8) }, () => new Array<number>(1 << 20).fill(0.5));
  const stdio = { stdin: -1, stdout: 1, stderr: 2 };
  const once = async (): Promise<void> => {
    if (spawner === 'native') await spawnNativeOnce('/bin/true', [], { PATH: '/usr/bin:/bin' }, stdio, null, 0);
    else await execa('/bin/true', [], { reject: false, buffer: false, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
  };
  for (let i = 0; i < 20; i++) await once(); // warm up
  const cpu0 = process.cpuUsage();
  const began = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next++ < SPAWNS) await once();
    }),
  );
  const wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpu0);
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  if (ballast.length < 0) throw new Error('unreachable: keeps the ballast alive');
  return { spawnsPerSec: (SPAWNS * 1000) / wallMs, cpuMsPerSpawn: (cpu.user + cpu.system) / 1000 / SPAWNS, rssMb };
}

/** The four cases, each in a fresh Node process. */
export async function runSpawnerMicro(): Promise<MicroResult[]> {
  const main = fileURLToPath(new URL('./spawner-main.js', import.meta.url));
  const results: MicroResult[] = [];
  for (const heapMb of [100, 500]) {
    for (const spawner of ['native', 'execa'] as const) {
      const { stdout } = await run(process.execPath, ['--max-old-space-size=2048', main, spawner, String(heapMb)]);
      const m = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Awaited<ReturnType<typeof measureSpawner>>;
      results.push({
        name: `spawner: /bin/true via ${spawner}, ${heapMb} MB heap (${m.rssMb.toFixed(0)} MB RSS)`,
        meanUs: m.cpuMsPerSpawn * 1000,
        p99Us: null,
        opsPerSec: m.spawnsPerSec,
        note: `mean = parent CPU per spawn; ops/s = spawns/s, ${AT_ONCE} at a time`,
      });
    }
  }
  return results;
}
