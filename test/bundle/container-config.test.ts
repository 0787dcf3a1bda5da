// deriveConfig with a start's docker-familiar options: the OCI config the runtime gets.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSpec } from '../../src/bundle/default-spec.js';
import { deriveConfig } from '../../src/bundle/spec.js';
import { SalvoError } from '../../src/errors.js';
import type { ContainerOptions } from '../../src/types.js';

let bundle: string;
before(() => {
  bundle = mkdtempSync(join(tmpdir(), 'flg-config-'));
  for (const dir of ['rootfs/etc', 'rootfs/work', 'rootfs/tmp']) mkdirSync(join(bundle, dir), { recursive: true });
  writeFileSync(join(bundle, 'rootfs/etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nbuild:x:1000:1000:b:/home/build:/bin/sh\n');
  writeFileSync(join(bundle, 'rootfs/etc/group'), 'root:x:0:\nbuild:x:1000:\nwheel:x:10:build,root\nstaff:x:50:\n');
});
after(() => rmSync(bundle, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read any part of an OCI config
type Config = Record<string, any>;

const derive = (container: ContainerOptions, extra: Record<string, unknown> = {}) =>
  deriveConfig(defaultSpec(), bundle, { args: ['/bin/true'], container, ...extra }) as Config;

function invalid(fn: () => unknown, text: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof SalvoError && error.code === 'ERR_INVALID_SPEC' && text.test(error.message));
}

describe('deriveConfig with container options', () => {
  it('gives terminal: false unless a terminal is asked for, whatever the bundle says', () => {
    const spec = defaultSpec();
    (spec.process as Record<string, unknown>).terminal = true;
    assert.equal((deriveConfig(spec, bundle, { args: ['/bin/true'] }).process as Record<string, unknown>).terminal, false);
    assert.equal((deriveConfig(spec, bundle, { args: ['/bin/true'], terminal: true }).process as Record<string, unknown>).terminal, true);
  });

  it('resolves a user name, its primary and supplementary groups and home from the rootfs', () => {
    const config = derive({ user: { user: 'build' } });
    assert.deepEqual(config.process.user, { uid: 1000, gid: 1000, additionalGids: [10] });
    assert.ok(config.process.env.includes('HOME=/home/build'));
    assert.deepEqual(derive({ user: { user: 'build', group: 'staff' } }).process.user, { uid: 1000, gid: 50, additionalGids: [10] });
    assert.deepEqual(derive({ user: { user: 4242 } }).process.user, { uid: 4242, gid: 0 });
    invalid(() => derive({ user: { user: 'ghost' } }), /user "ghost" is not in the rootfs's \/etc\/passwd/);
    invalid(() => derive({ user: { user: 0, group: 'ghosts' } }), /group "ghosts" of user is not in the rootfs's \/etc\/group/);
  });

  it("never reads the rootfs's /etc/passwd through a symlink (it could be the host's)", () => {
    const other = mkdtempSync(join(tmpdir(), 'flg-config-'));
    try {
      mkdirSync(join(other, 'rootfs/etc'), { recursive: true });
      symlinkSync('/etc/passwd', join(other, 'rootfs/etc/passwd'));
      const user = { user: 'root' };
      assert.throws(
        () => deriveConfig(defaultSpec(), other, { args: ['/bin/true'], container: { user } }),
        (error: unknown) =>
          error instanceof SalvoError && error.code === 'ERR_INVALID_SPEC' && /user "root" is not in the rootfs's/.test(error.message),
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('puts limits into linux.resources and keeps the device rules', () => {
    const config = derive({ memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20 });
    assert.deepEqual(config.linux.resources, {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 64 * 1024 * 1024 },
      cpu: { quota: 50_000, period: 100_000 },
      pids: { limit: 20 },
    });
  });

  it('leaves the network namespace out for host and keeps it for none', () => {
    const types = (config: Config) => config.linux.namespaces.map((ns: { type: string }) => ns.type);
    assert.ok(!types(derive({ network: 'host' })).includes('network'));
    assert.ok(types(derive({ network: 'none' })).includes('network'));
    assert.equal(derive({ hostname: 'ci-1' }).hostname, 'ci-1');
  });

  it('drops before it adds capabilities, in every set the config has', () => {
    const caps = derive({ capDrop: ['ALL'], capAdd: ['CAP_CHOWN'] }).process.capabilities;
    for (const set of ['bounding', 'effective', 'permitted', 'ambient']) assert.deepEqual(caps[set], ['CAP_CHOWN'], set);
    const added = derive({ capAdd: ['CAP_CHOWN'] }).process.capabilities.bounding;
    assert.deepEqual(added, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN']);
  });

  it('does not change the config it derives from', () => {
    const spec = defaultSpec();
    const before = JSON.stringify(spec);
    deriveConfig(spec, bundle, { args: ['/bin/true'], container: { capAdd: ['CAP_CHOWN'], memoryBytes: 2 ** 20, network: 'host', readOnly: false } });
    assert.equal(JSON.stringify(spec), before);
  });

  it('refuses a cwd or mount point the runtime would create in a read-only rootfs', () => {
    const tmpfs = (destination: string) => ({ destination, type: 'tmpfs', source: 'tmpfs', options: [] });
    invalid(
      () => deriveConfig(defaultSpec(), bundle, { args: ['/bin/true'], cwd: '/nonexistent' }),
      /cwd \/nonexistent does not exist in the read-only rootfs/,
    );
    invalid(() => derive({ mounts: [tmpfs('/opt/x')] }), /the mount point \/opt\/x does not exist/);
    // Existing, under /tmp (a tmpfs), or under a mount made before it: nothing is created in the rootfs.
    assert.doesNotThrow(() => deriveConfig(defaultSpec(), bundle, { args: ['/bin/true'], cwd: '/work' }));
    assert.doesNotThrow(() => deriveConfig(defaultSpec(), bundle, { args: ['/bin/true'], cwd: '/tmp/new/dir' }));
    assert.doesNotThrow(() => derive({ mounts: [tmpfs('/work'), tmpfs('/work/a/b')] }, { cwd: '/work/a/c' }));
    // A writable rootfs is its owner's: the runtime may create what it needs there.
    assert.doesNotThrow(() => derive({ readOnly: false }, { cwd: '/nonexistent' }));
  });
});
