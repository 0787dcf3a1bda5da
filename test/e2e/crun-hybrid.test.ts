// crun 1.8 on a hybrid cgroup host (DESIGN §12): salvo works around it, or explains in one line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Launcher } from '../../src/index.js';
import { listMainThreadChildren, readProcStat } from '../../src/io/procfs.js';
import { hostHasHybridControllers } from '../../src/runtime/hybrid-cgroup.js';
import { RUNTIMES, openLauncher, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

/** This process's live children running `sleep` (a namespace holder ends as `sleep infinity`). */
function liveSleepers(): number[] {
  return listMainThreadChildren().filter((pid) => {
    try {
      return readProcStat(pid)?.state !== 'Z' && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  });
}

/** A program named crun that is not crun: its --version prints `version` and exits with `status`. */
function notCrun(version: string, status: number): string {
  const path = join(tempDir(), 'crun');
  writeFileSync(path, `#!/bin/sh\necho '${version}'\nexit ${status}\n`);
  chmodSync(path, 0o755);
  return path;
}

const skip = !RUNTIMES.includes('crun')
  ? 'crun is not among SALVO_TEST_RUNTIMES'
  : !hostHasHybridControllers()
    ? 'this host is not a hybrid cgroup host with cgroup2 controllers, so crun needs no workaround'
    : false;

describe('crun on a hybrid cgroup host', { skip, timeout: 120_000 }, () => {
  it('explains the refusal in one line when the workaround is off', async () => {
    const launcher = await openLauncher('crun', { crunHybridWorkaround: 'off' });
    try {
      await assert.rejects(launcher.start({ id: 'refused', args: ['/bin/true'] }), (error: Error & { code: string }) => {
        assert.equal(error.code, 'ERR_CGROUP_HYBRID');
        assert.doesNotMatch(error.message, /\n/);
        assert.match(error.message, /hybrid cgroup/);
        assert.match(error.message, /crunHybridWorkaround/);
        return true;
      });
    } finally {
      await launcher.close();
    }
  });

  it('runs crun in a private mount namespace by default, leaving the host untouched', async () => {
    const launcher = await openLauncher('crun');
    try {
      assert.equal(launcher.runtime.namespaced, true);
      const proc = await launcher.start({ id: 'works', args: ['/bin/sh', '-c', 'exit 5'] });
      assert.equal((await proc.exited).exitCode, 5);
      assert.ok(hostHasHybridControllers(), 'the host still shows its cgroup2 controllers');
    } finally {
      await launcher.close();
    }
  });

  it('still sees a mount made on the host after the launcher opened (a shared mount: the namespace is its slave)', async () => {
    const shared = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', shared]);
    execFileSync('mount', ['--make-shared', shared]);
    const containers = join(shared, 'state', 'containers');
    let mounted = false;
    try {
      const launcher = await Launcher.open({ stateDir: join(shared, 'state'), runtime: 'crun' });
      try {
        await launcher.defaultBundle();
        // Process directories now live on a filesystem crun's namespace did not have when it was made.
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', containers]);
        mounted = true;
        const proc = await launcher.start({ id: 'after-mount', args: ['/bin/sh', '-c', 'exit 6'] });
        assert.equal((await proc.exited).exitCode, 6);
      } finally {
        await launcher.close();
      }
    } finally {
      if (mounted) execFileSync('umount', [containers]);
      // -R: the tmpfs covered salvo's shared bind of containers/ at close, so that bind stayed (§12).
      execFileSync('umount', ['-R', shared]);
    }
  });

  it('sets the namespace up while the version probe of a binary named crun runs, and removes it when that binary is not crun', async () => {
    const before = liveSleepers();
    const launcher = await Launcher.open({ stateDir: tempDir(), runtime: notCrun('runc version 9.9.9', 0) });
    try {
      assert.equal(launcher.runtime.flavour, 'runc');
      assert.equal(launcher.runtime.namespaced, false);
      assert.deepEqual(liveSleepers(), before, 'no namespace holder is left');
    } finally {
      await launcher.close();
    }
  });

  it('removes the namespace set up early when the version probe fails, and refuses the binary', async () => {
    const before = liveSleepers();
    await assert.rejects(Launcher.open({ stateDir: tempDir(), runtime: notCrun('not a runtime', 3) }), (error: Error & { code: string }) => {
      assert.equal(error.code, 'ERR_RUNTIME_NOT_FOUND');
      assert.match(error.message, /--version failed/);
      return true;
    });
    assert.deepEqual(liveSleepers(), before, 'no namespace holder is left');
  });
});
