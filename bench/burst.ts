// Macro: N containers blocked reading one fifo are released at once, so N exits arrive in a burst.
// Reports, per exit, the reap pass noticing it to its committed row, and the event loop's delay
// (how long a readable pidfd can wait before a pass runs): their sum bounds readable-to-committed.
// Then the kernel's bound, in the same run: native/burst-reaper.c starts as many containers on the
// same bundle, releases them the same way and only reaps them by pidfd (nothing recorded).
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Launcher, type Proc } from '../src/index.js';
import { pool } from '../src/bench/pool.js';
import { deriveConfig, loadBundleConfig, writeConfig } from '../src/bundle/spec.js';
import { native } from '../src/native.js';

const BURST_REAPER = fileURLToPath(new URL('../../build/Release/salvo-burst-reaper', import.meta.url));

export interface BurstResult {
  runtime: string;
  /** The C program that only reaps the same number of released processes by pidfd (null: not run). */
  cReaper?: { exits: number; reaped: number; releaseToAllReapedMs: number } | null;
  exits: number;
  recorded: number;
  releaseToAllRecordedMs: number;
  reapToRecord: { p50: number; p99: number; max: number };
  loopDelay: { p50: number; p99: number; max: number };
  /** How the exits came in: passes, the largest, and µs per exit in waitid and in the handler. */
  passes: {
    count: number;
    largest: number;
    reapUsPerExit: number;
    handlerUsPerExit: number;
    firstAfterReleaseMs: number;
    /** Of the passes' wall time, the main thread's time on a CPU and waiting for one (schedstat). */
    onCpuMs: number;
    waitingForCpuMs: number;
    wallMs: number;
  };
}

export async function runBurst(runtime: string, count: number, stateDir: string): Promise<BurstResult> {
  const launcher = await Launcher.open({ stateDir, runtime, deleteAfterExit: false, tasksPerWorker: 16 });
  const scratch = mkdtempSync(join(tmpdir(), 'salvo-burst-'));
  try {
    await launcher.gc();
    const barrier = join(scratch, 'barrier');
    mkdirSync(barrier);
    native().mkfifo(join(barrier, 'go'), 0o666);
    const base = await launcher.defaultBundle();
    const config = deriveConfig(loadBundleConfig(base), base, { args: ['/bin/sh', '-c', 'read x < /barrier/go'] });
    // A new mounts array: the loaded config is cached and shared.
    config.mounts = [...(config.mounts as object[]), { destination: '/barrier', type: 'bind', source: barrier, options: ['rbind', 'rw'] }];
    const bundle = join(scratch, 'bundle');
    mkdirSync(bundle);
    writeConfig(bundle, config);

    const procs: Proc[] = [];
    const ids = Array.from({ length: count }, (_, i) => `burst-${Date.now().toString(36)}-${i}`);
    await pool(ids, 8, async (id) => {
      procs.push(await launcher.start({ id, bundle, stdio: 'null' }));
    });
    launcher.reapLatency.reset();
    launcher.reapCost.reset();
    launcher.reapCost.scheduling = true;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const released = performance.now();
    const fd = openSync(join(barrier, 'go'), constants.O_WRONLY);
    writeSync(fd, '\n'.repeat(count));
    let firstExit = 0;
    const exits = await Promise.all(
      procs.map((p) =>
        p.exited.then((e) => {
          if (firstExit === 0) firstExit = performance.now();
          return e;
        }),
      ),
    );
    const releaseToAllRecordedMs = performance.now() - released;
    // Closed only now: a process that reaches its open() after the release still finds a writer and its line.
    closeSync(fd);
    loop.disable();
    const h = launcher.reapLatency;
    const cost = launcher.reapCost;
    const perExit = cost.perExitUs();
    const burstIds = new Set(ids);
    // Counted before gc, which removes the records of finished containers.
    const recorded = launcher.list({}).filter((r) => burstIds.has(r.id) && r.state === 'exited').length;
    const ms = (ns: number): number => ns / 1e6;
    await launcher.gc();
    const cRoot = join(stateDir, 'runtime', 'burst-c');
    mkdirSync(cRoot, { recursive: true, mode: 0o700 });
    const { stdout } = await promisify(execFile)(BURST_REAPER, [
      String(count),
      launcher.runtime.mountNamespace ?? '-',
      launcher.runtime.path,
      cRoot,
      bundle,
      join(barrier, 'go'),
      scratch,
      `burst-c-${Date.now().toString(36)}`,
    ]);
    return {
      runtime,
      cReaper: JSON.parse(stdout) as NonNullable<BurstResult['cReaper']>,
      exits: exits.length,
      recorded,
      releaseToAllRecordedMs,
      reapToRecord: { p50: h.quantile(0.5), p99: h.quantile(0.99), max: h.max },
      loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      passes: {
        count: cost.passes,
        largest: cost.largestPass,
        reapUsPerExit: perExit.reap,
        handlerUsPerExit: perExit.handler,
        firstAfterReleaseMs: firstExit - released,
        onCpuMs: cost.onCpuMs,
        waitingForCpuMs: cost.waitingForCpuMs,
        wallMs: cost.reapMs + cost.handlerMs,
      },
    };
  } finally {
    await launcher.gc().catch(() => undefined);
    await launcher.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
