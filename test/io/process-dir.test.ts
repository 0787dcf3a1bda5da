// The process directory's files: exitStatus written on the spot for a small reap pass.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prepareProcessDir, writeExitStatus, writeExitStatusesNow } from '../../src/io/process-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'salvo-pdir-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('writeExitStatusesNow', () => {
  it('writes each exitStatus atomically and counts a directory that is gone as failed, without stopping', () => {
    const a = join(dir, 'hp-a');
    const b = join(dir, 'hp-b');
    mkdirSync(a);
    mkdirSync(b);
    const result = writeExitStatusesNow([
      { dir: a, exitCode: 3 },
      { dir: join(dir, 'hp-gone'), exitCode: 1 },
      { dir: b, exitCode: 137 },
    ]);
    assert.deepEqual(result, { statuses: [], failed: 1 });
    assert.equal(readFileSync(join(a, 'exitStatus'), 'utf8'), '3\n');
    assert.equal(readFileSync(join(b, 'exitStatus'), 'utf8'), '137\n');
    assert.deepEqual(readdirSync(a), ['exitStatus']); // no temp file left
  });

  it("links a process directory under containers/ to the state directory's file for its code, made once", () => {
    const state = join(dir, 'hp-state');
    const runs = ['hp-x/init.1', 'hp-x/init.2', 'hp-y/exec-1.3'].map((run) => join(state, 'containers', run));
    for (const run of runs) mkdirSync(run, { recursive: true });
    writeExitStatus(runs[0] as string, 0);
    writeExitStatus(runs[1] as string, 0);
    writeExitStatus(runs[2] as string, 143);
    const shared = join(state, 'containers', '.exit-status', '0');
    assert.equal(readFileSync(shared, 'utf8'), '0\n');
    assert.equal(statSync(shared).nlink, 3); // no inode per exit
    assert.equal(statSync(join(runs[0] as string, 'exitStatus')).ino, statSync(shared).ino);
    assert.equal(readFileSync(join(runs[2] as string, 'exitStatus'), 'utf8'), '143\n');
    assert.deepEqual(readdirSync(join(state, 'containers', '.exit-status')).sort(), ['0', '143']); // no temp file left
  });

  it('replaces an exitStatus already there (a retried write) through temp + rename', () => {
    const run = join(dir, 'hp-state2', 'containers', 'hp-z', 'init.1');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'exitStatus'), 'stale\n');
    writeExitStatus(run, 2);
    assert.equal(readFileSync(join(run, 'exitStatus'), 'utf8'), '2\n');
    assert.deepEqual(readdirSync(run), ['exitStatus']);
  });
});

describe('prepareProcessDir', () => {
  it('makes containers/, the container directory and the run directory with its exit fifo', () => {
    const run = join(dir, 'hp-fresh', 'containers', 'hp-c', 'init.1');
    prepareProcessDir(run, 'null');
    assert.ok(lstatSync(join(run, 'exit')).isFIFO());
    assert.equal(statSync(run).mode & 0o777, 0o700);
    assert.equal(statSync(join(run, '..')).mode & 0o777, 0o700);
  });

  it("empties a run directory left over under the same name, and keeps the container directory's other runs", () => {
    const container = join(dir, 'hp-left', 'containers', 'hp-c');
    mkdirSync(join(container, 'init.1'), { recursive: true });
    mkdirSync(join(container, 'init.2'));
    writeFileSync(join(container, 'init.2', 'stdout.log'), 'old\n');
    prepareProcessDir(join(container, 'init.2'), 'fifo');
    assert.deepEqual(readdirSync(join(container, 'init.2')).sort(), ['exit', 'stderr', 'stdout']);
    assert.ok(statSync(join(container, 'init.1')).isDirectory());
  });

  it('refuses a container directory that is a symbolic link and makes nothing through it', () => {
    const containers = join(dir, 'hp-link', 'containers');
    const target = join(dir, 'hp-link', 'elsewhere');
    mkdirSync(containers, { recursive: true });
    mkdirSync(target);
    symlinkSync(target, join(containers, 'hp-c'));
    assert.throws(() => prepareProcessDir(join(containers, 'hp-c', 'init.1'), 'null'), { code: 'ERR_STATE_DIR' });
    assert.deepEqual(readdirSync(target), []);
  });
});
