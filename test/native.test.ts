// The addon's path arguments: one check for every call that takes a path (native/salvo.c get_path).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { native } from '../src/native.js';
import { removeTempDirs, tempDir } from './helpers.js';

after(removeTempDirs);

const tooLong = (syscall: string) => (error: unknown) =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENAMETOOLONG' && (error as NodeJS.ErrnoException).syscall === syscall;

describe('native path arguments', () => {
  it('refuses a path that does not fit PATH_MAX with ENAMETOOLONG named after its syscall, touching nothing', () => {
    const dir = tempDir();
    const long = join(dir, 'x'.repeat(5000));
    assert.throws(() => native().mkfifo(long, 0o600), tooLong('mkfifo'));
    assert.throws(() => native().mountOverlay('lowerdir=/', long), tooLong('mount'));
    assert.throws(() => native().mountOverlay(`lowerdir=${'y'.repeat(9000)}`, dir), tooLong('mount'));
    assert.throws(() => native().unmountDetach(long), tooLong('umount2'));
    assert.throws(() => native().unmountDetachAsync(long), tooLong('umount2'));
    assert.throws(() => native().bindSelf(long), tooLong('mount'));
    assert.throws(() => native().makeShared(long), tooLong('mount'));
    assert.throws(() => native().spreadSubdirectories(long), tooLong('open'));
    assert.equal(existsSync(long.slice(0, 200)), false);
  });

  it('refuses a path that is not a string with a TypeError, and makes a fifo from one that fits', () => {
    assert.throws(() => native().mkfifo(42 as unknown as string, 0o600), TypeError);
    const fifo = join(tempDir(), 'f');
    native().mkfifo(fifo, 0o600);
    assert.equal(existsSync(fifo), true);
  });
});
