// A bundle's config.json: loading (cached by mtime), and deriving one with the process overridden.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyIsolation, checkHooks, checkRootfs, deriveConfig, loadBundleConfig, mergeEnv, needsIsolation } from '../../src/bundle/spec.js';
import { INIT_PATH, INIT_STATUS_MOUNT } from '../../src/bundle/init.js';
import { SalvoError } from '../../src/errors.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'salvo-spec-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A fresh bundle directory holding `text` as its config.json (none when text is null). */
function bundle(text: string | null): string {
  const dir = join(root, `b${count++}`);
  mkdirSync(dir);
  if (text !== null) writeFileSync(join(dir, 'config.json'), text);
  return dir;
}

function fails(fn: () => unknown, code: 'ERR_BUNDLE_NOT_FOUND' | 'ERR_BUNDLE_INVALID', text: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SalvoError, `not a SalvoError: ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, text);
    return true;
  });
}

describe('loadBundleConfig', () => {
  it('parses config.json of a bundle', () => {
    const dir = bundle('{"ociVersion":"1.0.2","root":{"path":"rootfs"}}');
    assert.deepEqual(loadBundleConfig(dir), { ociVersion: '1.0.2', root: { path: 'rootfs' } });
  });

  it('says when the bundle directory does not exist', () => {
    fails(() => loadBundleConfig(join(root, 'missing')), 'ERR_BUNDLE_NOT_FOUND', /does not exist/);
  });

  it('says when the bundle is a file, not a directory', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '{}');
    fails(() => loadBundleConfig(file), 'ERR_BUNDLE_NOT_FOUND', /is not a directory/);
  });

  it('says when the directory has no config.json', () => {
    fails(() => loadBundleConfig(bundle(null)), 'ERR_BUNDLE_NOT_FOUND', /has no config\.json/);
  });

  it('refuses invalid JSON with ERR_BUNDLE_INVALID and keeps the parse error as cause', () => {
    const dir = bundle('{"root": ');
    fails(() => loadBundleConfig(dir), 'ERR_BUNDLE_INVALID', /is not valid JSON/);
    assert.throws(
      () => loadBundleConfig(dir),
      (error: unknown) => (error as SalvoError).cause instanceof SyntaxError,
    );
  });

  it('refuses JSON that is not an object', () => {
    for (const text of ['[]', '42', 'null', '"config"']) {
      fails(() => loadBundleConfig(bundle(text)), 'ERR_BUNDLE_INVALID', /must hold a JSON object/);
    }
  });

  it('returns the same object until the file changes, then the new content', () => {
    const dir = bundle('{"v":1}');
    const file = join(dir, 'config.json');
    const first = loadBundleConfig(dir);
    assert.equal(loadBundleConfig(dir), first);
    // Same size, so only the new mtime can tell the cache that the file changed.
    writeFileSync(file, '{"v":2}');
    const later = new Date(statSync(file).mtimeMs + 5000);
    utimesSync(file, later, later);
    const second = loadBundleConfig(dir);
    assert.notEqual(second, first);
    assert.deepEqual(second, { v: 2 });
    assert.equal(loadBundleConfig(dir), second);
  });
});

describe('deriveConfig', () => {
  const base = () => ({
    ociVersion: '1.0.2',
    // Writable: a read-only rootfs must hold a cwd (test/bundle/container-config.test.ts), and /b has none.
    root: { path: 'rootfs', readonly: false },
    process: { args: ['/bin/sh'], env: ['PATH=/bin', 'TERM=xterm', 'HOME=/root'], cwd: '/', terminal: true, user: { uid: 0, gid: 0 } },
    hostname: 'box',
  });

  it('makes a relative root.path absolute against the bundle and keeps the other root fields', () => {
    const derived = deriveConfig(base(), '/bundles/b', {});
    assert.deepEqual(derived.root, { path: '/bundles/b/rootfs', readonly: false });
  });

  it('resolves root.path against a relative bundle to an absolute path', () => {
    const derived = deriveConfig(base(), 'bundles/b', {});
    assert.equal((derived.root as { path: string }).path, resolve('bundles/b/rootfs'));
  });

  it('keeps an absolute root.path', () => {
    const config = { ...base(), root: { path: '/srv/rootfs' } };
    assert.deepEqual(deriveConfig(config, '/bundles/b', {}).root, { path: '/srv/rootfs' });
  });

  it('overrides args, cwd and terminal and keeps the rest of the process and config', () => {
    const derived = deriveConfig(base(), '/b', { args: ['/bin/echo', 'hi'], cwd: '/tmp', terminal: false });
    assert.deepEqual(derived.process, {
      args: ['/bin/echo', 'hi'],
      env: ['PATH=/bin', 'TERM=xterm', 'HOME=/root'],
      cwd: '/tmp',
      terminal: false,
      user: { uid: 0, gid: 0 },
    });
    assert.equal(derived.hostname, 'box');
    assert.equal(derived.ociVersion, '1.0.2');
  });

  it('merges env over the bundle env, replacing keys in place and appending new ones', () => {
    const derived = deriveConfig(base(), '/b', { env: ['TERM=dumb', 'NEW=1'] });
    assert.deepEqual((derived.process as { env: string[] }).env, ['PATH=/bin', 'TERM=dumb', 'HOME=/root', 'NEW=1']);
  });

  it('takes env as given when the bundle process has none', () => {
    const config = { root: { path: 'r' }, process: { args: ['/x'] } };
    assert.deepEqual((deriveConfig(config, '/b', { env: ['A=1'] }).process as { env: string[] }).env, ['A=1']);
  });

  it('does not change the config it was given', () => {
    const config = base();
    const copy = structuredClone(config);
    deriveConfig(config, '/b', { args: ['/x'], env: ['TERM=dumb'], cwd: '/tmp', terminal: false });
    assert.deepEqual(config, copy);
  });

  it('refuses a config without root.path', () => {
    fails(() => deriveConfig({ process: { args: ['/x'] } }, '/b', {}), 'ERR_BUNDLE_INVALID', /no root\.path/);
    fails(() => deriveConfig({ root: { path: '' }, process: { args: ['/x'] } }, '/b', {}), 'ERR_BUNDLE_INVALID', /no root\.path/);
  });

  it('refuses a config without process.args unless args are given', () => {
    fails(() => deriveConfig({ root: { path: 'r' } }, '/b', {}), 'ERR_BUNDLE_INVALID', /no process\.args/);
    fails(() => deriveConfig({ root: { path: 'r' }, process: { args: [] } }, '/b', { cwd: '/' }), 'ERR_BUNDLE_INVALID', /no process\.args/);
    assert.deepEqual((deriveConfig({ root: { path: 'r' } }, '/b', { args: ['/x'] }).process as { args: string[] }).args, ['/x']);
  });
});

describe('mergeEnv', () => {
  it('replaces a key in its original position and appends new keys', () => {
    assert.deepEqual(mergeEnv(['A=1', 'B=2', 'C=3'], ['B=20', 'D=4']), ['A=1', 'B=20', 'C=3', 'D=4']);
  });

  it('lets the last of repeated overrides win', () => {
    assert.deepEqual(mergeEnv(['A=1'], ['A=2', 'A=3']), ['A=3']);
  });

  it('splits on the first = only, so values may hold =', () => {
    assert.deepEqual(mergeEnv(['OPTS=a=b'], ['OPTS=c=d', 'X==']), ['OPTS=c=d', 'X==']);
  });

  it('treats an empty value as a value, and keys case-sensitively', () => {
    assert.deepEqual(mergeEnv(['A=1', 'a=1'], ['A=']), ['A=', 'a=1']);
  });

  it('returns copies for empty inputs', () => {
    assert.deepEqual(mergeEnv([], []), []);
    assert.deepEqual(mergeEnv(['A=1'], []), ['A=1']);
  });
});

describe('checkRootfs', () => {
  it('accepts a rootfs directory, relative to the bundle or absolute', () => {
    const dir = bundle(null);
    mkdirSync(join(dir, 'rootfs'));
    checkRootfs({ root: { path: 'rootfs' } }, dir);
    checkRootfs({ root: { path: join(dir, 'rootfs') } }, dir);
  });

  it('refuses a rootfs that is missing or a file with ERR_BUNDLE_INVALID naming the path', () => {
    const dir = bundle(null);
    writeFileSync(join(dir, 'file'), '');
    fails(
      () => checkRootfs({ root: { path: 'rootfs' } }, dir),
      'ERR_BUNDLE_INVALID',
      new RegExp(`rootfs ${join(dir, 'rootfs')} \\(root.path\\) does not exist`),
    );
    fails(() => checkRootfs({ root: { path: 'file' } }, dir), 'ERR_BUNDLE_INVALID', /is not a directory/);
  });

  it('leaves a config without root.path to the runtime', () => {
    checkRootfs({}, bundle(null));
  });
});

describe('applyIsolation', () => {
  const config = (linux?: Record<string, unknown>) => ({
    root: { path: '/r' },
    process: { args: ['/x'] },
    ...(linux === undefined ? {} : { linux }),
  });
  const isolation = { cgroupsPath: '/salvo-abc/job-1', refuseHooks: false, init: null, hostPid: false };

  it("gives a config without cgroupsPath the container's own and keeps the rest of linux", () => {
    const derived = applyIsolation(config({ namespaces: [{ type: 'mount' }] }), isolation);
    assert.deepEqual(derived.linux, { namespaces: [{ type: 'mount' }], cgroupsPath: '/salvo-abc/job-1' });
    assert.deepEqual(applyIsolation(config(), isolation).linux, { cgroupsPath: '/salvo-abc/job-1' });
  });

  it("keeps a bundle's own cgroupsPath, and then needs no derived config", () => {
    const own = config({ cgroupsPath: '/mine/c' });
    assert.equal(applyIsolation(own, isolation), own);
    assert.equal(needsIsolation(own, isolation), false);
    assert.equal(needsIsolation(config(), isolation), true);
    assert.equal(needsIsolation(config(), { cgroupsPath: null, refuseHooks: true, init: null, hostPid: false }), false);
  });

  it('runs the command under salvo-init, bind-mounted read-only, with its writable status directory', () => {
    const withMount = { ...config(), mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }] };
    const init = { binary: '/opt/salvo/salvo-init', statusDir: '/state/containers/c/init/init-status', logLimit: 0 };
    const derived = applyIsolation(withMount, { ...isolation, init }) as { process: { args: string[] }; mounts: unknown[] };
    assert.deepEqual(derived.process.args, [INIT_PATH, '--status-dir', INIT_STATUS_MOUNT, '--', '/x']);
    assert.deepEqual(derived.mounts, [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: INIT_PATH, type: 'bind', source: '/opt/salvo/salvo-init', options: ['bind', 'ro', 'nosuid', 'nodev'] },
      { destination: INIT_STATUS_MOUNT, type: 'bind', source: init.statusDir, options: ['bind', 'rw', 'nosuid', 'nodev', 'noexec'] },
    ]);
  });

  it("passes the job's log limit to salvo-init, and none when there is no limit", () => {
    const init = { binary: '/opt/salvo/salvo-init', statusDir: '/s/init-status', logLimit: 1048576 };
    const derived = applyIsolation(config(), { ...isolation, init }) as { process: { args: string[] } };
    assert.deepEqual(derived.process.args, [INIT_PATH, '--status-dir', INIT_STATUS_MOUNT, '--log-limit', '1048576', '--', '/x']);
  });

  it("drops the bundle's pid namespace only when the host's is asked for", () => {
    const spaced = config({ namespaces: [{ type: 'pid' }, { type: 'mount' }] });
    assert.deepEqual(applyIsolation(spaced, { ...isolation, hostPid: true }).linux, {
      namespaces: [{ type: 'mount' }],
      cgroupsPath: '/salvo-abc/job-1',
    });
    assert.deepEqual((applyIsolation(spaced, isolation).linux as { namespaces: unknown }).namespaces, [{ type: 'pid' }, { type: 'mount' }]);
  });

  it('is applied by deriveConfig', () => {
    assert.equal((deriveConfig(config(), '/b', {}, isolation).linux as { cgroupsPath: string }).cgroupsPath, '/salvo-abc/job-1');
  });
});

describe('checkHooks', () => {
  const hooked = { root: { path: '/r' }, hooks: { prestart: [{ path: '/bin/true' }], poststop: [] } };

  it('refuses a bundle with OCI hooks when asked, naming the kinds', () => {
    assert.throws(
      () => checkHooks(hooked, '/b', { cgroupsPath: null, refuseHooks: true, init: null, hostPid: false }),
      (error: unknown) => error instanceof SalvoError && error.code === 'ERR_BUNDLE_INVALID' && /\/b has OCI hooks \(prestart\)/.test(error.message),
    );
  });

  it('lets hooks through by default, and a bundle without hooks always', () => {
    checkHooks(hooked, '/b', { cgroupsPath: null, refuseHooks: false, init: null, hostPid: false });
    checkHooks({ root: { path: '/r' }, hooks: { poststop: [] } }, '/b', { cgroupsPath: null, refuseHooks: true, init: null, hostPid: false });
    checkHooks({ root: { path: '/r' } }, '/b', { cgroupsPath: null, refuseHooks: true, init: null, hostPid: false });
  });
});
