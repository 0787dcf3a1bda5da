// gc and what deletes cut short leave behind (issue 14 §7): a container left paused by a launcher
// killed inside `runc delete`, a container whose process directory already went, and containers
// of another runtime than the launcher's. Real runc and crun, default bundle.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupMounts, cgroupParentName } from '../../src/io/cgroups.js';
import { RUNTIMES, openLauncher, removeTempDirs } from '../helpers.js';
import { isRunning } from './processes.js';

after(removeTempDirs);

/** The cgroup directories a state directory's containers live under, in every hierarchy. */
function parentCgroups(stateDir: string): string[] {
  return cgroupMounts()
    .map((m) => join(m, cgroupParentName(stateDir)))
    .filter((dir) => existsSync(dir));
}

/** Ids a runtime lists under a --root (asked directly, not through salvo). */
function listed(path: string, root: string): string[] {
  const out = execFileSync(path, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' }).trim();
  return out === '' || out === 'null' ? [] : (JSON.parse(out) as { id: string }[]).map((c) => c.id);
}

/** Freezes a container's cgroup in every freezer (v1 freezer.state, cgroup2 cgroup.freeze), as `runc delete` does before its kill; returns its pids. */
function freeze(stateDir: string, id: string): number[] {
  const pids = new Set<number>();
  for (const mount of cgroupMounts()) {
    const dir = join(mount, cgroupParentName(stateDir), id);
    if (existsSync(join(dir, 'freezer.state'))) writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
    if (existsSync(join(dir, 'cgroup.freeze'))) writeFileSync(join(dir, 'cgroup.freeze'), '1');
    if (existsSync(join(dir, 'cgroup.procs'))) {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter((p) => p !== ''))
        pids.add(Number(pid));
    }
  }
  return [...pids];
}

/** After a failure: nothing frozen stays behind on the host (the test's own cgroup and processes). */
function thawAndKill(stateDir: string, id: string, pids: readonly number[]): void {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, cgroupParentName(stateDir), id);
    if (existsSync(join(dir, 'freezer.state'))) writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    if (existsSync(join(dir, 'cgroup.freeze'))) writeFileSync(join(dir, 'cgroup.freeze'), '0');
  }
  for (const pid of pids.filter((p) => isRunning(p))) process.kill(pid, 'SIGKILL');
}

for (const runtime of RUNTIMES) {
  describe(`gc of containers a cut-short delete left (${runtime})`, { timeout: 300_000 }, () => {
    it('thaws and deletes a container left frozen after its init ended, leaving no container, record or cgroup', async () => {
      const id = 'gcx-frozen';
      const first = await openLauncher(runtime, { deleteAfterExit: false });
      const { stateDir } = first;
      const { path, root } = first.runtime;
      let frozen: number[] = [];
      try {
        // Host pid namespace: the background sleep outlives its init in the container's cgroup.
        const proc = await first.start({ id, hostPid: true, init: false, args: ['/bin/sh', '-c', 'sleep 1000 & exit 0'] });
        assert.equal((await proc.exited).exitCode, 0);
        frozen = freeze(stateDir, id);
        assert.ok(frozen.length > 0, 'the sleep is in the frozen cgroup');
      } finally {
        await first.close();
      }
      const second = await openLauncher(runtime, { stateDir });
      try {
        const gc = await second.gc();
        assert.deepEqual([gc.containersDeleted, gc.failed], [[id], []]);
        assert.deepEqual(listed(path, root), [], 'the runtime forgot it');
        assert.deepEqual(second.list(), [], 'its record went with it');
        assert.ok(!existsSync(join(stateDir, 'containers', id)), 'its process directory too');
        assert.deepEqual(parentCgroups(stateDir), [], 'no salvo-* cgroup left');
        assert.deepEqual(
          frozen.filter((pid) => isRunning(pid)),
          [],
          'its frozen process was killed',
        );
      } finally {
        await second.close();
        thawAndKill(stateDir, id, frozen);
      }
    });

    it('leaves alone a container paused through salvo while its process is watched', async () => {
      const id = 'gcx-paused';
      const launcher = await openLauncher(runtime);
      try {
        const proc = await launcher.start({ id, args: ['/bin/sleep', '1000'] });
        await launcher.pause(id);
        const gc = await launcher.gc();
        assert.deepEqual([gc.containersDeleted, gc.failed], [[], []]);
        assert.deepEqual(
          (await launcher.runtimeContainers()).map((c) => [c.id, c.status]),
          [[id, 'paused']],
        );
        assert.equal(launcher.get(id)?.state, 'running');
        await launcher.resume(id);
        await launcher.kill(id, 'SIGKILL');
        assert.equal((await proc.exited).signal, 'SIGKILL');
      } finally {
        await launcher.close();
      }
    });

    it('deletes a container whose process directory already went, its log written beside the store', async () => {
      const id = 'gcx-nodir';
      const launcher = await openLauncher(runtime, { deleteAfterExit: false });
      const { path, root } = launcher.runtime;
      try {
        const proc = await launcher.start({ id, args: ['/bin/true'] });
        assert.equal((await proc.exited).exitCode, 0);
        rmSync(join(launcher.stateDir, 'containers', id), { recursive: true });
        const gc = await launcher.gc();
        assert.deepEqual([gc.containersDeleted, gc.failed], [[id], []]);
        assert.deepEqual(listed(path, root), [], 'the runtime really forgot it');
        assert.deepEqual(launcher.list(), []);
      } finally {
        await launcher.close();
      }
    });
  });
}

for (const [before, now] of [
  ['crun', 'runc'],
  ['runc', 'crun'],
] as const) {
  const both = RUNTIMES.includes(before) && RUNTIMES.includes(now);
  describe(
    `gc over every runtime the store knows (${before}, then gc with ${now})`,
    { timeout: 300_000, skip: !both && 'needs runc and crun in SALVO_TEST_RUNTIMES' },
    () => {
      it(`deletes the containers ${before} left when gc runs with ${now}`, async () => {
        const id = `gcx-other-${before}`;
        const first = await openLauncher(before, { deleteAfterExit: false });
        const { stateDir } = first;
        const { path, root } = first.runtime;
        try {
          const proc = await first.start({ id, args: ['/bin/true'] });
          assert.equal((await proc.exited).exitCode, 0);
        } finally {
          await first.close();
        }
        assert.deepEqual(listed(path, root), [id]);
        const second = await openLauncher(now, { stateDir });
        try {
          const kept = await second.start({ id: `gcx-mine-${now}`, args: ['/bin/true'] });
          await kept.exited;
          const gc = await second.gc();
          assert.deepEqual([gc.containersDeleted.includes(id), gc.failed], [true, []]);
          assert.deepEqual(listed(path, root), [], `${before}'s container is gone`);
          assert.deepEqual(second.list(), [], 'and so are the records');
          assert.deepEqual(parentCgroups(stateDir), [], 'no salvo-* cgroup left');
        } finally {
          await second.close();
        }
      });
    },
  );
}
