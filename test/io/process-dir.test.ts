// The process directory's files: exitStatus written on the spot for a small reap pass.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeExitStatusesNow } from '../../src/io/process-dir.js';

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
});
