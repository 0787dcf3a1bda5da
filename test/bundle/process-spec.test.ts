// The process.json of an exec'd process: the container's process with the exec's fields over it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveProcess } from '../../src/bundle/process-spec.js';

const CONFIG = {
  ociVersion: '1.0.2',
  root: { path: 'rootfs' },
  process: {
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 0, gid: 0 },
    args: ['/bin/sleep', '60'],
    env: ['PATH=/bin', 'TERM=xterm', 'HOME=/root'],
    cwd: '/',
    capabilities: { bounding: ['CAP_KILL'] },
    noNewPrivileges: true,
  },
};

describe('deriveProcess', () => {
  it("overrides args and keeps the container's env, cwd, user, capabilities", () => {
    const process = deriveProcess(CONFIG, '/b/config.json', { args: ['/bin/sh', '-c', 'exit 3'] });
    assert.deepEqual(process, {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/sh', '-c', 'exit 3'],
      env: ['PATH=/bin', 'TERM=xterm', 'HOME=/root'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'] },
      noNewPrivileges: true,
    });
  });

  it('merges env over the container env, and sets cwd, user and terminal', () => {
    const process = deriveProcess(CONFIG, '/b/config.json', {
      args: ['/bin/id'],
      env: ['TERM=dumb', 'EXTRA=1'],
      cwd: '/tmp',
      user: { uid: 1000, gid: 100, additionalGids: [5] },
      terminal: true,
    });
    assert.deepEqual(process.env, ['PATH=/bin', 'TERM=dumb', 'HOME=/root', 'EXTRA=1']);
    assert.equal(process.cwd, '/tmp');
    assert.deepEqual(process.user, { uid: 1000, gid: 100, additionalGids: [5] });
    assert.equal(process.terminal, true);
    assert.deepEqual(process.consoleSize, { height: 24, width: 80 });
  });

  it('sets the console size of a terminal when one is given', () => {
    const process = deriveProcess(CONFIG, '/b/config.json', { args: ['/bin/sh'], terminal: true, consoleSize: { height: 40, width: 100 } });
    assert.deepEqual(process.consoleSize, { height: 40, width: 100 });
  });

  it("does not change the container's config", () => {
    const before = JSON.stringify(CONFIG);
    deriveProcess(CONFIG, '/b/config.json', { args: ['/bin/true'], env: ['A=1'], user: { uid: 1, gid: 1 } });
    assert.equal(JSON.stringify(CONFIG), before);
  });

  it('refuses a config without a process object with ERR_BUNDLE_INVALID naming the file', () => {
    assert.throws(() => deriveProcess({ root: { path: 'r' } }, '/b/config.json', { args: ['/bin/true'] }), {
      code: 'ERR_BUNDLE_INVALID',
      message: /\/b\/config\.json has no process object/,
    });
  });
});
