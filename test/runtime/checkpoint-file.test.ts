// salvo-checkpoint.json and the restore argv it implies: a restore passes exactly the CRIU flags
// its checkpoint was made with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointArgs, restoreArgs, type CheckpointOptions } from '../../src/runtime/argv.js';
import { parseStoredCheckpoint, restoreOptionsFor, storedCheckpoint } from '../../src/runtime/checkpoint-file.js';
import type { CriuOptions } from '../../src/types.js';

const CRIU_FLAGS = ['--tcp-established', '--ext-unix-sk', '--shell-job', '--file-locks'];
const NAMES = ['tcpEstablished', 'extUnixSk', 'shellJob', 'fileLocks'] as const;
const BASE = { bundle: '/bundles/b', pidFile: '/state/containers/r1/init/pid', imagePath: '/bundles/b/checkpoints/one' };

/** The checkpoint's stored record as restore reads it back: through its JSON text. */
function roundTrip(options: CheckpointOptions): ReturnType<typeof storedCheckpoint> {
  const text = JSON.stringify(storedCheckpoint('c1', options, 1_700_000_000_000), null, 2);
  return parseStoredCheckpoint(text, '/x/salvo-checkpoint.json');
}

function criuFlagsOf(argv: string[]): string[] {
  return argv.filter((arg) => CRIU_FLAGS.includes(arg));
}

describe('restoreOptionsFor', () => {
  it('gives restore the same CRIU flags as the checkpoint, for each of the 16 combinations', () => {
    for (let mask = 0; mask < 16; mask++) {
      const flags: CriuOptions = Object.fromEntries(NAMES.map((name, bit) => [name, (mask & (1 << bit)) !== 0]));
      const checkpoint = checkpointArgs('c1', { imagePath: BASE.imagePath, leaveRunning: mask % 3 === 0, ...flags });
      const restore = restoreArgs('r1', restoreOptionsFor(roundTrip({ imagePath: BASE.imagePath, ...flags }), BASE));
      assert.deepEqual(criuFlagsOf(restore), criuFlagsOf(checkpoint), `mask ${mask}`);
      assert.equal(criuFlagsOf(restore).length, NAMES.filter((_, bit) => (mask & (1 << bit)) !== 0).length);
    }
  });

  it('builds the exact restore argv for a stored checkpoint, flags before --no-pivot and the id last', () => {
    const stored = roundTrip({ imagePath: BASE.imagePath, tcpEstablished: true, shellJob: true, leaveRunning: true });
    const argv = restoreArgs('r1', restoreOptionsFor(stored, { ...BASE, workPath: '/w', consoleSocket: '/s.sock', noPivot: true }));
    assert.deepEqual(argv, [
      'restore',
      '-d',
      '--bundle',
      '/bundles/b',
      '--pid-file',
      BASE.pidFile,
      '--image-path',
      BASE.imagePath,
      '--work-path',
      '/w',
      '--console-socket',
      '/s.sock',
      '--tcp-established',
      '--shell-job',
      '--no-pivot',
      'r1',
    ]);
  });

  it('restores images made outside salvo (no record) without CRIU flags', () => {
    assert.deepEqual(restoreArgs('r1', restoreOptionsFor(null, BASE)), [
      'restore',
      '-d',
      '--bundle',
      '/bundles/b',
      '--pid-file',
      BASE.pidFile,
      '--image-path',
      BASE.imagePath,
      'r1',
    ]);
  });

  it('ignores CRIU flags a caller slips into the base: the stored ones decide', () => {
    const stored = roundTrip({ imagePath: BASE.imagePath });
    const base = { ...BASE, fileLocks: true } as typeof BASE;
    assert.deepEqual(criuFlagsOf(restoreArgs('r1', restoreOptionsFor(stored, base))), []);
  });
});

describe('storedCheckpoint and parseStoredCheckpoint', () => {
  it('stores every flag as a boolean with the container id, time and leave-running', () => {
    assert.deepEqual(storedCheckpoint('c1', { imagePath: '/i', extUnixSk: true, leaveRunning: true }, 42), {
      version: 1,
      id: 'c1',
      at: 42,
      leftRunning: true,
      criu: { tcpEstablished: false, extUnixSk: true, shellJob: false, fileLocks: false },
    });
  });

  it('refuses text that is not JSON, not version 1 or lacks a boolean flag, with ERR_CHECKPOINT_INVALID', () => {
    const good = storedCheckpoint('c1', { imagePath: '/i' }, 1);
    const bad = [
      '{ "version": 1,',
      JSON.stringify({ ...good, version: 2 }),
      JSON.stringify({ ...good, criu: { ...good.criu, shellJob: 'yes' } }),
      JSON.stringify({ ...good, criu: { tcpEstablished: false } }),
      JSON.stringify({ ...good, id: 7 }),
      'null',
      '[]',
    ];
    for (const text of bad) {
      assert.throws(
        () => parseStoredCheckpoint(text, '/cp/salvo-checkpoint.json'),
        (error: { code: string; message: string }) => {
          assert.equal(error.code, 'ERR_CHECKPOINT_INVALID', text);
          assert.match(error.message, /\/cp\/salvo-checkpoint\.json/);
          return true;
        },
      );
    }
  });
});
