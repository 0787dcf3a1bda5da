// The cgroup paths salvo gives containers, and the hierarchies it looks for them in.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupMounts, cgroupParentName, containerCgroupPath, removeEmptyCgroups } from '../../src/io/cgroups.js';

const root = mkdtempSync(join(tmpdir(), 'salvo-cgroups-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup paths', () => {
  it('gives each state directory its own absolute parent, the same for every name of the directory', () => {
    const a = join(root, 'a');
    mkdirSync(a);
    assert.match(containerCgroupPath(a, 'job-1'), /^\/salvo-[0-9a-f]{12}\/job-1$/);
    assert.notEqual(cgroupParentName(a), cgroupParentName(join(root, 'b')));
    assert.equal(cgroupParentName(`${root}/./a`), cgroupParentName(a));
  });

  it('finds cgroup and cgroup2 mounts in mountinfo, unescaped', () => {
    const mountinfo = join(root, 'mountinfo');
    writeFileSync(
      mountinfo,
      [
        '25 20 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
        '26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
        '28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
        '29 25 0:26 / /mnt/my\\040cgroups rw - cgroup cgroup rw,name=x',
        '30 20 0:27 / /proc rw - proc proc rw',
      ].join('\n'),
    );
    assert.deepEqual(cgroupMounts(mountinfo), ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/pids', '/mnt/my cgroups']);
  });

  it('removes empty children of the parent that are not kept, then the parent only when asked', () => {
    const mount = join(root, 'mount');
    const parent = join(mount, cgroupParentName('/some/state'));
    for (const id of ['gone', 'kept']) mkdirSync(join(parent, id), { recursive: true });
    assert.equal(
      removeEmptyCgroups('/some/state', (id) => id === 'kept', false, [mount]),
      1,
    );
    assert.ok(existsSync(join(parent, 'kept')) && !existsSync(join(parent, 'gone')));
    assert.equal(
      removeEmptyCgroups('/some/state', () => true, true, [mount]),
      0,
      'a parent with a child stays',
    );
    assert.equal(
      removeEmptyCgroups('/some/state', () => false, true, [mount]),
      2,
    );
    assert.ok(!existsSync(parent));
  });
});
