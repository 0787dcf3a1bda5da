// The docker-familiar start fields: what each becomes, and the error that names a wrong one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { SalvoError } from '../../src/errors.js';
import { normalizeContainerOptions } from '../../src/launcher/validate-container.js';
import type { StartSpec } from '../../src/types.js';

const options = (fields: Partial<StartSpec>) => normalizeContainerOptions({ id: 'flg-v', ...fields });

function rejects(fields: Partial<StartSpec>, text: RegExp): void {
  assert.throws(
    () => options(fields),
    (error: unknown) => {
      assert.ok(error instanceof SalvoError);
      assert.equal(error.code, 'ERR_INVALID_SPEC');
      assert.match(error.message, text);
      return true;
    },
  );
}

describe('normalizeContainerOptions', () => {
  it('asks for nothing when no docker-familiar field is given', () => {
    assert.equal(options({ args: ['true'] }), null);
  });

  it('turns -v, --mount and --tmpfs into OCI mounts in that order', () => {
    const host = tmpdir();
    const result = options({
      volumes: [`${host}:/src:ro`],
      mounts: [`type=bind,src=${host},dst=/work`, 'type=tmpfs,dst=/app,tmpfs-size=64m'],
      tmpfs: ['/mnt:size=1m,noexec'],
    });
    assert.deepEqual(result?.mounts, [
      { destination: '/src', type: 'bind', source: host, options: ['rbind', 'rprivate', 'ro'] },
      { destination: '/work', type: 'bind', source: host, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/app', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', `size=${64 * 1024 * 1024}`] },
      { destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=1m', 'noexec'] },
    ]);
  });

  it('names the field of a bad mount', () => {
    rejects({ volumes: ['cache:/x'] }, /^volumes\[0\] must be a host path/);
    rejects({ volumes: ['/no/such/dir/flg:/x'] }, /^volumes\[0\] source must be a path that exists on the host/);
    rejects({ volumes: [`${tmpdir()}:relative`] }, /^volumes\[0\] destination must be an absolute path/);
    rejects({ volumes: [`${tmpdir()}:/x:z`] }, /^volumes\[0\] must be SRC:DST with :ro or :rw/);
    rejects({ mounts: ['type=volume,dst=/x'] }, /^mounts\[0\] must be a mount with type=bind or type=tmpfs/);
    rejects({ mounts: ['type=bind,dst=/x,color=red'] }, /unknown "color"/);
    rejects({ tmpfs: ['/x', '/x'] }, /given twice/);
  });

  it('parses users, sizes, limits and capability names', () => {
    assert.deepEqual(options({ user: 'nobody' })?.user, { user: 'nobody' });
    assert.deepEqual(options({ user: '1000:100' })?.user, { user: 1000, group: 100 });
    assert.deepEqual(options({ user: 7 })?.user, { user: 7 });
    assert.equal(options({ memory: '512m' })?.memoryBytes, 512 * 1024 * 1024);
    assert.equal(options({ memory: 2 ** 30 })?.memoryBytes, 2 ** 30);
    assert.equal(options({ cpus: 1.5 })?.cpus, 1.5);
    assert.deepEqual(options({ capAdd: ['chown', 'CAP_NET_RAW'], capDrop: ['all'] }), {
      capAdd: ['CAP_CHOWN', 'CAP_NET_RAW'],
      capDrop: ['ALL'],
    });
  });

  it('names the field of a bad user, network, limit or capability', () => {
    rejects({ user: 'a:b:c' }, /^user must be UID\[:GID\] or NAME\[:GROUP\]/);
    rejects({ network: 'bridge' as never }, /^network must be "none" or "host" \(salvo has no bridge network/);
    rejects({ memory: '12q' }, /^memory must be a size/);
    rejects({ memory: 100 }, /^memory must be a size of at least 1m/);
    rejects({ cpus: 0 }, /^cpus must be a number of CPUs/);
    rejects({ pidsLimit: 1.5 }, /^pidsLimit must be an integer ≥ 1/);
    rejects({ capAdd: ['FLY'] }, /^capAdd must be capability names/);
    rejects({ hostname: 'a b' }, /^hostname must be a hostname/);
    rejects({ readOnly: 'yes' as never }, /^readOnly must be a boolean/);
  });
});
