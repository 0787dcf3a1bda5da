// salvo's shared bind of <stateDir>/containers (DESIGN §12): made once, never stacked, reused after
// a crash, removed only when nothing under it is in use, never made over a mount it did not create;
// with crun, overlays mounted on the host reach its namespace; nothing a container mounts comes back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Launcher } from '../../src/index.js';
import { readMountinfo, isShared, type MountEntry } from '../../src/image/mountinfo.js';
import { releaseContainersDir, selfBindAt, shareContainersDir } from '../../src/image/shared-containers.js';
import { native } from '../../src/native.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';
import { waitFor } from '../reliability/processes.js';
import { buildTestImage } from './layout-builder.js';

after(removeTempDirs);

const SELF = '/proc/self/mountinfo';
const mountsAt = (dir: string, file = SELF): MountEntry[] => readMountinfo(file).filter((m) => m.point === dir);
const mountsUnder = (dir: string, file = SELF): MountEntry[] => readMountinfo(file).filter((m) => m.point.startsWith(`${dir}/`));
const containersOf = (stateDir: string): string => join(realpathSync(stateDir), 'containers');

describe('the shared bind of a containers directory', () => {
  const fresh = (): string => {
    const dir = join(realpathSync(tempDir('salvo-img-shared-')), 'containers');
    mkdirSync(dir);
    return dir;
  };

  it('is made once as a shared mount, reused (not stacked) by a second call, and removed by release', () => {
    const dir = fresh();
    const before = new Map(readMountinfo(SELF).map((m) => [m.id, m.propagation.join(' ')]));
    assert.deepEqual(shareContainersDir(dir), { state: 'made' });
    const made = mountsAt(dir);
    assert.equal(made.length, 1);
    assert.ok(isShared(made[0] as MountEntry), `shared: ${made[0]?.propagation.join(' ')}`);
    assert.deepEqual(shareContainersDir(dir), { state: 'reused' });
    assert.deepEqual(
      mountsAt(dir).map((m) => m.id),
      made.map((m) => m.id),
      'the same single mount',
    );
    // Only salvo's own mount was made shared: every mount that was there keeps its propagation.
    const changed = readMountinfo(SELF).filter((m) => before.has(m.id) && before.get(m.id) !== m.propagation.join(' '));
    assert.deepEqual(changed, []);
    assert.equal(releaseContainersDir(dir), 'removed');
    assert.deepEqual(mountsAt(dir), []);
    assert.equal(releaseContainersDir(dir), 'absent');
  });

  it('makes shared a bind a crash left unshared, without stacking another', () => {
    const dir = fresh();
    native().bindSelf(dir); // killed between the bind and the make-shared
    assert.equal(isShared(mountsAt(dir)[0] as MountEntry), false);
    assert.deepEqual(shareContainersDir(dir), { state: 'reused' });
    assert.equal(mountsAt(dir).length, 1);
    assert.ok(isShared(mountsAt(dir)[0] as MountEntry));
    assert.equal(releaseContainersDir(dir), 'removed');
  });

  it('stays while a mount under it is in use, and goes once that mount is gone', () => {
    const dir = fresh();
    shareContainersDir(dir);
    mkdirSync(join(dir, 'c1'));
    execFileSync('mount', ['-t', 'tmpfs', 'img-shared-test', join(dir, 'c1')]);
    assert.equal(releaseContainersDir(dir), 'busy');
    assert.equal(mountsAt(dir).length, 1);
    execFileSync('umount', [join(dir, 'c1')]);
    assert.equal(releaseContainersDir(dir), 'removed');
    assert.deepEqual(mountsAt(dir), []);
  });

  it('never binds over, nor unmounts, a mount it did not make', () => {
    const dir = fresh();
    execFileSync('mount', ['-t', 'tmpfs', 'img-shared-test', dir]); // someone else's mount at the path
    try {
      assert.equal(selfBindAt(dir), null);
      assert.equal(shareContainersDir(dir).state, 'unavailable');
      assert.equal(releaseContainersDir(dir), 'absent');
      assert.deepEqual(
        mountsAt(dir).map((m) => m.fstype),
        ['tmpfs'],
      );
    } finally {
      execFileSync('umount', [dir]);
    }
    // And a directory with a mount already under it is not covered (the bind would hide it).
    mkdirSync(join(dir, 'c1'));
    execFileSync('mount', ['-t', 'tmpfs', 'img-shared-test', join(dir, 'c1')]);
    try {
      assert.equal(shareContainersDir(dir).state, 'unavailable');
      assert.deepEqual(mountsAt(dir), []);
    } finally {
      execFileSync('umount', [join(dir, 'c1')]);
    }
  });
});

for (const runtime of RUNTIMES) {
  describe(`image containers on the shared containers directory with ${runtime}`, { timeout: 600_000 }, () => {
    it("lets nothing a container mounts inside its root propagate back to the host (or crun's namespace)", async () => {
      const scratch = tempDir('salvo-img-shared-');
      await buildTestImage(scratch, join(scratch, 'layout'));
      const stateDir = join(scratch, 'state');
      const launcher = await Launcher.open({ stateDir, runtime, workers: 1 });
      try {
        const containers = containersOf(stateDir);
        const namespaceInfo = launcher.runtime.mountNamespace?.replace(/ns\/mnt$/, 'mountinfo') ?? null;
        // crun on this hybrid host: the bind is there, shared on the host and a slave in crun's namespace.
        if (namespaceInfo !== null) {
          assert.ok(isShared(mountsAt(containers)[0] as MountEntry), 'shared on the host');
          assert.ok(
            (mountsAt(containers, namespaceInfo)[0]?.propagation ?? []).some((t) => t.startsWith('master:')),
            "a slave in crun's namespace",
          );
        }
        const proc = await launcher.start({
          id: `img-shared-${runtime}-back`,
          image: `oci:${join(scratch, 'layout')}:v1`,
          user: 0,
          capAdd: ['CAP_SYS_ADMIN'],
          args: ['/bin/sh', '-c', 'mount -t tmpfs img-shared-inner /data && grep -c img-shared-inner /proc/self/mountinfo && exec sleep 600'],
        });
        const stdout = join(proc.dir, 'stdout.log');
        await waitFor('the container to mount its tmpfs', () => existsSync(stdout) && readFileSync(stdout, 'utf8') === '1\n', 120_000);
        // The overlay is the only mount under containers/, on the host and in crun's namespace alike.
        const inner = (file: string): MountEntry[] => mountsUnder(containers, file).filter((m) => m.fstype !== 'overlay');
        assert.deepEqual(inner(SELF), [], 'no container mount on the host');
        assert.equal(mountsUnder(containers).length, 1, 'the overlay is on the host');
        if (namespaceInfo !== null) {
          assert.deepEqual(inner(namespaceInfo), [], "no container mount in crun's namespace");
          assert.equal(mountsUnder(containers, namespaceInfo).length, 1, "the host's overlay reached crun's namespace");
        }
        assert.equal(readFileSync(SELF, 'utf8').includes('img-shared-inner'), false);
        await launcher.kill(proc.id, 'SIGKILL');
        await proc.exited;
        await launcher.gc();
        assert.deepEqual(mountsUnder(containers), []);
        if (namespaceInfo !== null) assert.deepEqual(mountsUnder(containers, namespaceInfo), [], 'the detach propagated too');
      } finally {
        await launcher.close();
      }
      assert.deepEqual(mountsAt(containersOf(stateDir)), [], 'close removed the bind');
    });
  });
}
