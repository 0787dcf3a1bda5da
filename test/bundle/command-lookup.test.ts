// Finding a container's command on the host as the runtime will in the container: PATH from the
// container's env, symlinks resolved inside the rootfs and never through the host's directories.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commandInRootfs, resolveInRoot } from '../../src/bundle/command-lookup.js';
import { removeTempDirs, tempDir } from '../helpers.js';

let root: string;
const PATH = ['PATH=/usr/bin:/bin'];

before(() => {
  root = tempDir('salvo-lookup-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'work'));
  writeFileSync(join(root, 'bin/busybox'), '');
  chmodSync(join(root, 'bin/busybox'), 0o755);
  writeFileSync(join(root, 'bin/data'), '');
  symlinkSync('busybox', join(root, 'bin/sh'));
  symlinkSync('/bin/busybox', join(root, 'usr/bin/env')); // absolute: inside the rootfs
  symlinkSync('/usr/bin/sort', join(root, 'bin/hostsort')); // exists on the host, not in the rootfs
  symlinkSync('../../../../../../bin/busybox', join(root, 'usr/bin/up')); // `..` stops at the root
  symlinkSync('loop', join(root, 'bin/loop'));
  writeFileSync(join(root, 'work/tool'), '');
  chmodSync(join(root, 'work/tool'), 0o700);
});
after(removeTempDirs);

describe('commandInRootfs', () => {
  it('finds absolute paths and bare names through the PATH of the container', () => {
    assert.equal(commandInRootfs(root, '/bin/busybox', PATH, '/'), true);
    assert.equal(commandInRootfs(root, 'sh', PATH, '/'), true);
    assert.equal(commandInRootfs(root, 'env', PATH, '/'), true);
    assert.equal(commandInRootfs(root, 'sh', ['PATH=/usr/bin'], '/'), false);
    assert.equal(commandInRootfs(root, 'sh', [], '/'), false, 'no PATH: no search');
  });

  it('resolves links inside the rootfs, never into the host', () => {
    assert.equal(commandInRootfs(root, '/bin/hostsort', PATH, '/'), false);
    assert.equal(commandInRootfs(root, '/usr/bin/up', PATH, '/'), true);
    assert.equal(resolveInRoot(root, '/usr/bin/up'), join(root, 'bin/busybox'));
    assert.equal(resolveInRoot(root, '/../../etc'), null, `no ${root}/etc`);
  });

  it('refuses what the runtime cannot exec: a missing file, a directory, no x bit, a link loop', () => {
    assert.equal(commandInRootfs(root, '/no/such/command', PATH, '/'), false);
    assert.equal(commandInRootfs(root, '/bin', PATH, '/'), false);
    assert.equal(commandInRootfs(root, '/bin/data', PATH, '/'), false);
    assert.equal(commandInRootfs(root, '/bin/loop', PATH, '/'), false);
  });

  it('takes a relative path with a slash from the working directory', () => {
    assert.equal(commandInRootfs(root, './tool', PATH, '/work'), true);
    assert.equal(commandInRootfs(root, './tool', PATH, '/'), false);
  });
});
