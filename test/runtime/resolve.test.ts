// Finding the runtime binary on a PATH, by path, or failing with ERR_RUNTIME_NOT_FOUND.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { resolveRuntime, runtimeFlavour } from '../../src/runtime/resolve.js';

// Names no system directory (/usr/sbin, /sbin… are searched too) will hold.
const NAME = `salvo-fake-runtime-${process.pid}`;

function notFound(error: unknown): boolean {
  return error instanceof SalvoError && error.code === 'ERR_RUNTIME_NOT_FOUND';
}

describe('resolveRuntime', () => {
  let dir: string;
  let first: string;
  let second: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'salvo-resolve-'));
    first = join(dir, 'first');
    second = join(dir, 'second');
    mkdirSync(first);
    mkdirSync(second);
    writeFileSync(join(second, NAME), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'plain-file'), 'not a program\n', { mode: 0o644 });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a name on the given PATH', () => {
    assert.deepEqual(resolveRuntime(NAME, `${first}:${second}`), { path: join(second, NAME), requested: NAME });
  });

  it('takes the first PATH entry that holds an executable file', () => {
    writeFileSync(join(first, NAME), '#!/bin/sh\n', { mode: 0o755 });
    try {
      assert.equal(resolveRuntime(NAME, `${first}:${second}`).path, join(first, NAME));
    } finally {
      rmSync(join(first, NAME));
    }
  });

  it('skips a PATH entry whose file is not executable, and one that is a directory', () => {
    writeFileSync(join(first, NAME), '#!/bin/sh\n', { mode: 0o644 });
    mkdirSync(join(dir, 'dirs', NAME), { recursive: true });
    try {
      assert.equal(resolveRuntime(NAME, `${join(dir, 'dirs')}:${first}::${second}`).path, join(second, NAME));
    } finally {
      rmSync(join(first, NAME));
    }
  });

  it('returns an absolute path when the PATH entry that holds the name is relative', () => {
    const entry = relative(process.cwd(), second);
    assert.equal(resolveRuntime(NAME, entry).path, join(second, NAME));
  });

  it('refuses a missing name with ERR_RUNTIME_NOT_FOUND and names it', () => {
    assert.throws(
      () => resolveRuntime(`${NAME}-missing`, `${first}:${second}`),
      (error: unknown) => {
        assert.ok(notFound(error));
        assert.match((error as Error).message, new RegExp(`"${NAME}-missing" was not found`));
        return true;
      },
    );
  });

  it('accepts an absolute path to an executable file', () => {
    const path = join(second, NAME);
    assert.deepEqual(resolveRuntime(path, ''), { path, requested: path });
  });

  it('resolves a relative path against the working directory', () => {
    const requested = relative(process.cwd(), join(second, NAME));
    assert.ok(requested.includes('/'));
    assert.deepEqual(resolveRuntime(requested, ''), { path: join(second, NAME), requested });
  });

  it('refuses a path that exists but is not executable', () => {
    const path = join(dir, 'plain-file');
    chmodSync(path, 0o644);
    assert.throws(
      () => resolveRuntime(path, ''),
      (error: unknown) => {
        assert.ok(notFound(error));
        assert.match((error as Error).message, /not executable/);
        assert.ok((error as Error).message.includes(path));
        return true;
      },
    );
  });

  it('refuses a path that is a directory or does not exist', () => {
    assert.throws(() => resolveRuntime(first, ''), notFound);
    assert.throws(() => resolveRuntime(join(dir, 'nothing-here'), ''), notFound);
  });

  it('refuses an empty or blank name', () => {
    assert.throws(() => resolveRuntime('', `${second}`), notFound);
    assert.throws(() => resolveRuntime('  ', `${second}`), notFound);
  });
});

describe('runtimeFlavour', () => {
  it('recognises runc and crun version output', () => {
    assert.equal(runtimeFlavour('runc version 1.1.12-0ubuntu2\ncommit: v1.1.12\nspec: 1.0.2-dev\n'), 'runc');
    assert.equal(runtimeFlavour('crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\n'), 'crun');
  });

  it('ignores leading whitespace and case', () => {
    assert.equal(runtimeFlavour('\n  CRUN version 1.8'), 'crun');
  });

  it('returns unknown for anything else', () => {
    assert.equal(runtimeFlavour('youki version 0.3.0'), 'unknown');
    assert.equal(runtimeFlavour(''), 'unknown');
  });
});
