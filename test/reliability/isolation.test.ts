// Isolation (issue 14): a container must not be touched by another state directory's containers,
// and salvo must not touch host processes it did not start. Real runc and crun, default bundle.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupMounts, cgroupParentName } from '../../src/io/cgroups.js';
import type { Launcher } from '../../src/index.js';
import { RUNTIMES, derivedBundle, openLauncher, removeTempDirs, sleep } from '../helpers.js';

after(removeTempDirs);

/** A container that ends with 3 once /tmp/go exists in it (an exec makes it): no timing involved. */
const WAIT_FOR_GO = ['/bin/sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3'];

async function letItFinish(launcher: Launcher, id: string): Promise<void> {
  const exec = await launcher.exec(id, { args: ['/bin/touch', '/tmp/go'] }).catch(() => null);
  await exec?.exited;
}

/** The cgroup directories a state directory's containers live under, in every hierarchy. */
function parentCgroups(stateDir: string): string[] {
  return cgroupMounts()
    .map((m) => join(m, cgroupParentName(stateDir)))
    .filter((dir) => existsSync(dir));
}

/** A process's state letter from /proc, or null once it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

for (const runtime of RUNTIMES) {
  describe(`cgroup isolation (${runtime})`, { timeout: 300_000 }, () => {
    it('keeps a container running when another state directory deletes a container with the same id', async () => {
      const a = await openLauncher(runtime);
      const b = await openLauncher(runtime);
      try {
        const first = await a.start({ id: 'iso-dupx', args: WAIT_FOR_GO });
        const cgroup = readFileSync(`/proc/${first.pid}/cgroup`, 'utf8');
        const second = await b.start({ id: 'iso-dupx', args: ['/bin/true'] });
        assert.equal((await second.exited).exitCode, 0);
        await b.close(); // waits for the runtime delete after the exit
        await letItFinish(a, 'iso-dupx');
        const exit = await first.exited;
        assert.deepEqual([exit.exitCode, exit.signal], [3, null], "the other state directory's delete did not kill it");
        assert.match(cgroup, new RegExp(`:/${cgroupParentName(a.stateDir)}/iso-dupx$`, 'm'), 'its cgroup is under its state directory');
      } finally {
        await b.close();
        await a.close();
      }
      assert.deepEqual(parentCgroups(a.stateDir), [], 'close removed the empty parent cgroups');
      assert.deepEqual(parentCgroups(b.stateDir), []);
    });

    it("leaves alone a host process whose cgroup is named like the job's id", async () => {
      const id = `iso-host-${process.pid}-${runtime}`;
      const made: string[] = [];
      const host: ChildProcess = spawn('sleep', ['1000'], { stdio: 'ignore' });
      const hostExited = once(host, 'exit');
      try {
        await once(host, 'spawn');
        for (const mount of cgroupMounts()) {
          const dir = join(mount, id);
          try {
            mkdirSync(dir);
            made.push(dir);
            writeFileSync(join(dir, 'cgroup.procs'), `${host.pid}\n`);
          } catch {
            // cpuset needs cpus and mems first; the other hierarchies are enough
          }
        }
        assert.ok(made.length > 0);
        const launcher = await openLauncher(runtime);
        try {
          const proc = await launcher.start({ id, args: ['/bin/true'] });
          assert.equal((await proc.exited).exitCode, 0);
        } finally {
          await launcher.close(); // waits for the runtime delete after the exit
        }
        const state = procState(host.pid as number);
        assert.ok(state !== null && state !== 'Z', `the host's sleep is alive (state ${String(state)})`);
      } finally {
        host.kill('SIGKILL');
        await hostExited;
        for (const dir of made.reverse()) {
          for (let i = 0; i < 50 && existsSync(dir); i++) {
            try {
              rmdirSync(dir);
            } catch {
              await sleep(20); // the killed process leaves its cgroup a moment after its exit
            }
          }
        }
      }
    });

    it('keeps the cgroupsPath of a bundle that sets one', async () => {
      const launcher = await openLauncher(runtime);
      const own = `/iso-own-${process.pid}-${runtime}/c1`;
      try {
        const bundle = await derivedBundle(launcher, (config) => {
          config.linux.cgroupsPath = own;
          config.process.args = WAIT_FOR_GO;
        });
        const proc = await launcher.start({ id: 'iso-own', bundle });
        assert.match(readFileSync(`/proc/${proc.pid}/cgroup`, 'utf8'), new RegExp(`:${own}$`, 'm'));
        await letItFinish(launcher, 'iso-own');
        assert.equal((await proc.exited).exitCode, 3);
      } finally {
        await launcher.close();
        for (const mount of cgroupMounts()) {
          for (const dir of [join(mount, own), join(mount, own, '..')]) if (existsSync(dir)) rmdirSync(dir);
        }
      }
    });
  });
}

for (const runtime of RUNTIMES) {
  describe(`cgroups left behind (${runtime})`, { timeout: 300_000 }, () => {
    it("gc removes the empty cgroups of its state directory, and no one else's", async () => {
      const first = await openLauncher(runtime, { deleteAfterExit: false });
      const stateDir = first.stateDir;
      const parent = cgroupParentName(stateDir);
      const mounts = cgroupMounts();
      const foreign = mounts.map((m) => join(m, `iso-gc-host-${process.pid}-${runtime}`));
      try {
        const proc = await first.start({ id: 'iso-gc', args: ['/bin/true'] });
        assert.equal((await proc.exited).exitCode, 0);
        // A delete cut short (the runtime forgot the container, its cgroup stayed), and a host cgroup.
        for (const m of mounts) mkdirSync(join(m, parent, 'iso-gc-cut'), { recursive: true });
        for (const dir of foreign) mkdirSync(dir);
      } finally {
        await first.close();
      }
      assert.ok(parentCgroups(stateDir).length > 0, 'the stopped container and the cut delete keep the parent');
      const second = await openLauncher(runtime, { stateDir });
      try {
        const gc = await second.gc();
        assert.deepEqual(gc.containersDeleted, ['iso-gc']);
        assert.deepEqual(parentCgroups(stateDir), [], 'gc removed the container cgroups and their parent');
        assert.ok(
          foreign.every((dir) => existsSync(dir)),
          'a cgroup salvo did not make stays',
        );
      } finally {
        await second.close();
        for (const dir of foreign) rmdirSync(dir);
      }
    });
  });
}

for (const runtime of RUNTIMES) {
  describe(`gc beside deletes in flight (${runtime})`, { timeout: 300_000 }, () => {
    it('waits for the deletes after exits instead of racing them, and reports every container deleted', async () => {
      const launcher = await openLauncher(runtime);
      try {
        const ids = Array.from({ length: 8 }, (_, i) => `iso-gcrace-${i}`);
        const procs = await Promise.all(ids.map((id) => launcher.start({ id, args: ['/bin/true'] })));
        await Promise.all(procs.map((p) => p.exited));
        const gc = await launcher.gc(); // at once: the post-exit deletes are still in flight
        assert.deepEqual(gc.failed, []);
        assert.deepEqual(await launcher.runtimeContainers(), []);
        assert.deepEqual(launcher.list(), [], 'every record pruned');
      } finally {
        await launcher.close();
      }
    });
  });
}
