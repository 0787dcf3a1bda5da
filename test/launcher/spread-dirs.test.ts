// containers/ as ext4's "top directory" (chattr +T): run directories spread over the block groups,
// where an inode allocation scans few recently deleted inodes (DESIGN §10). Only where the
// filesystem has the flag (ext2/3/4); elsewhere the call says false and nothing changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { native } from '../../src/native.js';
import { RUNTIMES, openLauncher, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const onExt = (dir: string): boolean => /^ext[234]/.test(execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim());
const flags = (dir: string): string => execFileSync('lsattr', ['-d', dir], { encoding: 'utf8' }).split(' ')[0] ?? '';

describe('spreadSubdirectories', () => {
  it('sets the top-directory flag once, says so again when it is set, and says false for a path that is no directory', (t) => {
    const dir = join(tempDir(), 'spd-top');
    mkdirSync(dir);
    if (!onExt(dir)) return t.skip('the temp directory is not on ext2/3/4');
    assert.equal(native().spreadSubdirectories(dir), true);
    assert.match(flags(dir), /T/);
    assert.equal(native().spreadSubdirectories(dir), true);
    assert.equal(native().spreadSubdirectories(join(dir, 'missing')), false);
  });
});

describe('Launcher.open', { skip: RUNTIMES.length === 0 && 'no runtime' }, () => {
  it("marks the state directory's containers/ and the runtime root it made as top directories, not a root of the user's", async (t) => {
    const own = await openLauncher(RUNTIMES[0] as string);
    const userRoot = join(tempDir(), 'spd-root');
    const theirs = await openLauncher(RUNTIMES[0] as string, { runtimeRoot: userRoot });
    try {
      const containers = join(own.stateDir, 'containers');
      if (!onExt(containers)) return t.skip('the state directory is not on ext2/3/4');
      assert.match(flags(containers), /T/);
      assert.match(flags(own.runtime.root), /T/);
      assert.doesNotMatch(flags(userRoot), /T/);
    } finally {
      await own.close();
      await theirs.close();
    }
  });
});
