// The log limit's last step: a log over its limit becomes its tail from a line start, under a marker.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cutMarker, keepLogTail, keepLogTails } from '../../src/io/log-tail.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

describe('keepLogTail', () => {
  it('keeps the last whole lines within the limit under a marker that counts the bytes cut', () => {
    const path = join(tempDir(), 'stdout.log');
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join('');
    writeFileSync(path, lines);
    assert.equal(keepLogTail(path, 100), true);
    const text = readFileSync(path, 'utf8');
    const [marker, ...rest] = text.split('\n');
    const kept = rest.join('\n');
    assert.ok(kept.startsWith('line '), 'the tail starts at a line boundary');
    assert.ok(kept.endsWith('line 999\n'), 'and ends with the real last output');
    assert.ok(Buffer.byteLength(kept) <= 100);
    assert.equal(`${marker}\n`, cutMarker(Buffer.byteLength(lines) - Buffer.byteLength(kept), 100));
    assert.ok(lines.endsWith(kept));
  });

  it('leaves a log within its limit as it is, and a tail with no line boundary whole', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stdout.log'), 'short\n');
    writeFileSync(join(dir, 'stderr.log'), 'x'.repeat(300));
    keepLogTails(dir, 100);
    assert.equal(readFileSync(join(dir, 'stdout.log'), 'utf8'), 'short\n');
    assert.equal(readFileSync(join(dir, 'stderr.log'), 'utf8'), `${cutMarker(200, 100)}${'x'.repeat(100)}`);
  });
});
