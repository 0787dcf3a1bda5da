// Exec and checkpoint specs are checked before anything exists, with messages naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeCheckpointSpec, normalizeExecSpec } from '../../src/launcher/validate-lifecycle.js';
import { normalizeStartSpec } from '../../src/launcher/validate.js';
import type { ExecSpec } from '../../src/types.js';

describe('normalizeExecSpec', () => {
  it('normalizes a full spec into an override with terminal, stdio and labels', () => {
    assert.deepEqual(
      normalizeExecSpec({
        args: ['/bin/sh'],
        env: { A: '1' },
        cwd: '/tmp',
        user: { uid: 1000, gid: 100, additionalGids: [5, 6] },
        terminal: true,
        terminalSize: { cols: 100, rows: 40 },
        stdio: 'fifo',
        execId: 'debug-1',
        labels: { who: 'me' },
      }),
      {
        execId: 'debug-1',
        override: {
          args: ['/bin/sh'],
          env: ['A=1'],
          cwd: '/tmp',
          user: { uid: 1000, gid: 100, additionalGids: [5, 6] },
          terminal: true,
          consoleSize: { height: 40, width: 100 },
        },
        terminal: true,
        stdio: 'fifo',
        labels: { who: 'me' },
        fifoHandoff: null,
        consoleSocket: null,
      },
    );
  });

  it("takes another process's console socket for a terminal: an absolute path, with terminal: true only", () => {
    assert.equal(normalizeExecSpec({ args: ['/bin/sh'], terminal: true, consoleSocket: '/tmp/c/console.sock' }).consoleSocket, '/tmp/c/console.sock');
    assert.equal(normalizeStartSpec({ id: 'c1', terminal: true, consoleSocket: '/tmp/c/console.sock' }).consoleSocket, '/tmp/c/console.sock');
    for (const [spec, message] of [
      [{ terminal: true, consoleSocket: 'console.sock' }, /^consoleSocket must be an absolute path of a unix socket/],
      [{ terminal: true, consoleSocket: 7 }, /^consoleSocket must be an absolute path/],
      [{ consoleSocket: '/tmp/c/console.sock' }, /^consoleSocket must be used with terminal: true/],
    ] as const) {
      assert.throws(() => normalizeExecSpec({ args: ['/bin/sh'], ...spec } as ExecSpec), { code: 'ERR_INVALID_SPEC', message });
      assert.throws(() => normalizeStartSpec({ id: 'c1', ...spec } as never), { code: 'ERR_INVALID_SPEC', message });
    }
  });

  it('gives a terminal 80×24 unless a size is given, so that the process never sees 0×0', () => {
    assert.deepEqual(normalizeExecSpec({ args: ['/bin/sh'], terminal: true }).override.consoleSize, { height: 24, width: 80 });
    assert.equal(normalizeExecSpec({ args: ['/bin/sh'] }).override.consoleSize, undefined);
  });

  it('defaults to no exec id (the launcher picks one), no terminal and log files', () => {
    const exec = normalizeExecSpec({ args: ['/bin/true'] });
    assert.equal(exec.execId, null);
    assert.equal(exec.terminal, false);
    assert.equal(exec.override.terminal, false);
    assert.equal(exec.stdio, 'log');
  });

  it('refuses bad fields with ERR_INVALID_SPEC naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^args must be a non-empty array of strings/],
      [{ args: [] }, /^args must be/],
      [{ args: ['/bin/true'], cwd: 'tmp' }, /^cwd must be an absolute path/],
      [{ args: ['/bin/true'], user: { uid: -1, gid: 0 } }, /^user\.uid must be an integer/],
      [{ args: ['/bin/true'], user: { uid: 0, gid: 0, additionalGids: ['5'] } }, /^user\.additionalGids\[0\] must be/],
      [{ args: ['/bin/true'], user: 'root' }, /^user must be an object/],
      [{ args: ['/bin/true'], terminal: 'yes' }, /^terminal must be a boolean/],
      [{ args: ['/bin/true'], stdio: 'pipe' }, /^stdio must be one of null, log, fifo/],
      [{ args: ['/bin/true'], env: ['NOEQUALS'] }, /^env must be KEY=value entries/],
      [{ args: ['/bin/true'], terminal: true, terminalSize: { cols: 0, rows: 24 } }, /^terminalSize must be \{ cols, rows \}/],
    ];
    for (const [spec, message] of cases) {
      assert.throws(() => normalizeExecSpec(spec as ExecSpec), { code: 'ERR_INVALID_SPEC', message }, JSON.stringify(spec));
    }
  });

  it('refuses an exec id that is not a safe id, or is "init", with ERR_INVALID_ID', () => {
    for (const execId of ['../x', '', 'a/b', 'init']) {
      assert.throws(() => normalizeExecSpec({ args: ['/bin/true'], execId }), { code: 'ERR_INVALID_ID' }, execId);
    }
  });
});

describe('normalizeCheckpointSpec', () => {
  it('takes a name, explicit CRIU flags and leave-running', () => {
    assert.deepEqual(normalizeCheckpointSpec({ name: 'before-upgrade', leaveRunning: true, tcpEstablished: true }), {
      name: 'before-upgrade',
      dir: null,
      workDir: null,
      leaveRunning: true,
      criu: { tcpEstablished: true, extUnixSk: false, shellJob: false, fileLocks: false },
    });
  });

  it('resolves dir and workDir to absolute paths', () => {
    const spec = normalizeCheckpointSpec({ dir: 'images', workDir: '/w' });
    assert.equal(spec.dir, `${process.cwd()}/images`);
    assert.equal(spec.workDir, '/w');
  });

  it('refuses a spec without name or dir, a name that is a path, and non-boolean flags', () => {
    assert.throws(() => normalizeCheckpointSpec({}), { code: 'ERR_INVALID_SPEC', message: /name or dir/ });
    assert.throws(() => normalizeCheckpointSpec({ name: '../escape' }), { code: 'ERR_INVALID_ID', message: /checkpoint name/ });
    assert.throws(() => normalizeCheckpointSpec({ name: 'x', shellJob: 1 as never }), {
      code: 'ERR_INVALID_SPEC',
      message: /^shellJob must be a boolean/,
    });
  });
});

describe('the terminal fields of a start spec', () => {
  it('sets the console size with the terminal, 80×24 by default, and checks a size given without one', () => {
    assert.deepEqual(normalizeStartSpec({ id: 'c1', terminal: true }).override, { terminal: true, consoleSize: { height: 24, width: 80 } });
    assert.deepEqual(normalizeStartSpec({ id: 'c1', terminal: true, terminalSize: { cols: 132, rows: 50 } }).override?.consoleSize, {
      height: 50,
      width: 132,
    });
    assert.deepEqual(normalizeStartSpec({ id: 'c1', terminal: false }).override, { terminal: false });
    assert.throws(() => normalizeStartSpec({ id: 'c1', terminalSize: { cols: 80 } as never }), {
      code: 'ERR_INVALID_SPEC',
      message: /^terminalSize/,
    });
  });
});

describe('the checkpoint field of a start spec', () => {
  it('takes exactly one of name or dir', () => {
    assert.deepEqual(normalizeStartSpec({ id: 'r1', checkpoint: { name: 'one' } }).checkpoint, { name: 'one', dir: null, workDir: null });
    assert.deepEqual(normalizeStartSpec({ id: 'r1', checkpoint: { dir: '/cp', workDir: '/w' } }).checkpoint, {
      name: null,
      dir: '/cp',
      workDir: '/w',
    });
    assert.equal(normalizeStartSpec({ id: 'r1' }).checkpoint, null);
    assert.throws(() => normalizeStartSpec({ id: 'r1', checkpoint: { name: 'a', dir: '/cp' } }), {
      code: 'ERR_INVALID_SPEC',
      message: /either name or dir/,
    });
    assert.throws(() => normalizeStartSpec({ id: 'r1', checkpoint: {} }), { code: 'ERR_INVALID_SPEC' });
    assert.throws(() => normalizeStartSpec({ id: 'r1', checkpoint: { name: 'a/b' } }), { code: 'ERR_INVALID_ID' });
  });
});
