import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { imageArgs, imageProcess, resolveUser } from '../../src/image/process.js';
import { SalvoError } from '../../src/errors.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

function rootfs(): string {
  const dir = tempDir('salvo-img-proc-');
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nwheel:x:10:other\n');
  return dir;
}

describe('the image config as the process', () => {
  it('resolves User names and ids from the image /etc/passwd and /etc/group, with extra groups', () => {
    const root = rootfs();
    assert.deepEqual(resolveUser('', root, 'i'), { uid: 0, gid: 0 });
    assert.deepEqual(resolveUser('app', root, 'i'), { uid: 1000, gid: 1001, additionalGids: [50] });
    assert.deepEqual(resolveUser('1000', root, 'i'), { uid: 1000, gid: 1001, additionalGids: [50] });
    assert.deepEqual(resolveUser('app:wheel', root, 'i'), { uid: 1000, gid: 10 });
    assert.deepEqual(resolveUser('4242:77', root, 'i'), { uid: 4242, gid: 77 });
    assert.throws(
      () => resolveUser('nobody', root, 'i'),
      (e: unknown) => e instanceof SalvoError && e.code === 'ERR_IMAGE_LAYOUT',
    );
  });

  it('never reads /etc/passwd through a symlink (it could be the host one)', () => {
    const root = tempDir('salvo-img-proc-');
    mkdirSync(join(root, 'etc'));
    symlinkSync('/etc/passwd', join(root, 'etc', 'passwd'));
    assert.throws(() => resolveUser('root', root, 'i'), /not in its \/etc\/passwd/);
  });

  it('follows docker: args replace Cmd, an entrypoint replaces Entrypoint and drops Cmd', () => {
    const p = imageProcess({ config: { Entrypoint: ['/ep'], Cmd: ['a'], Env: ['X=1'] } }, rootfs(), 'i');
    assert.deepEqual(p.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'X=1']);
    assert.deepEqual(imageArgs(p, undefined, undefined, 'i'), ['/ep', 'a']);
    assert.deepEqual(imageArgs(p, ['b'], undefined, 'i'), ['/ep', 'b']);
    assert.deepEqual(imageArgs(p, undefined, ['/other'], 'i'), ['/other']);
    assert.deepEqual(imageArgs(p, ['c'], ['/other'], 'i'), ['/other', 'c']);
    const empty = imageProcess({ config: {} }, rootfs(), 'i');
    assert.equal(empty.cwd, '/');
    assert.throws(
      () => imageArgs(empty, undefined, undefined, 'i'),
      (e: unknown) => e instanceof SalvoError && e.code === 'ERR_INVALID_SPEC',
    );
  });
});
