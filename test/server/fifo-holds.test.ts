// The server's hold on a client's fifos: the runtime's write ends open (and what it writes waits)
// before the client has its readers; the hold ends at the client's word or when it goes away.
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { native } from '../../src/native.js';
import { FifoHolds } from '../../src/server/fifo-holds.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(() => removeTempDirs());

function fifos(): { stdout: string; stderr: string } {
  const dir = tempDir();
  const paths = { stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') };
  native().mkfifo(paths.stdout, 0o600);
  native().mkfifo(paths.stderr, 0o600);
  return paths;
}

/** What a writer that must not block (the runtime's side) gets: ENXIO while no reader exists. */
function openWriter(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
}

describe('FifoHolds', () => {
  it("lets the process's writes in before the client reads, and the client's reader gets them after the hold ends", async () => {
    const paths = fifos();
    assert.throws(() => openWriter(paths.stdout), { code: 'ENXIO' }, 'no reader yet: a writer cannot open');
    const holds = new FifoHolds();
    const hold = holds.hold(paths, new AbortController().signal);
    const writer = openWriter(paths.stdout);
    writeSync(writer, 'early\n');
    closeSync(writer);
    // The client opens its reader (and its keep-alive writer) after the process wrote and closed.
    const reader = openSync(paths.stdout, constants.O_RDONLY | constants.O_NONBLOCK);
    const keepAlive = openWriter(paths.stdout);
    holds.settle(hold.token);
    await hold.acked;
    closeSync(keepAlive);
    const buffer = Buffer.alloc(64);
    const read = readSync(reader, buffer);
    closeSync(reader);
    assert.equal(buffer.subarray(0, read).toString(), 'early\n');
    assert.throws(() => openWriter(paths.stderr), { code: 'ENXIO' }, 'the hold let go of its read ends');
  });

  it('fails the hold when the client could not open the fifos, or went away first, and keeps a reader until the start is over', async () => {
    const holds = new FifoHolds();
    const failed = holds.hold(fifos(), new AbortController().signal);
    holds.settle(failed.token, 'EMFILE');
    await assert.rejects(failed.acked, { code: 'ERR_ABORTED', message: /could not open the fifos: EMFILE/ });
    const gone = new AbortController();
    const paths = fifos();
    const left = holds.hold(paths, gone.signal);
    gone.abort();
    await assert.rejects(left.acked, { code: 'ERR_ABORTED', message: /went away/ });
    assert.throws(() => holds.settle(left.token), { code: 'ERR_NOT_FOUND' });
    // The runtime may still be opening its write ends (a blocking open in a worker): a reader stays
    // until the start is over, or that open would block the worker thread for good.
    closeSync(openWriter(paths.stdout));
    left.release();
    assert.throws(() => openWriter(paths.stdout), { code: 'ENXIO' }, 'nothing held once released');
    const failedPaths = fifos();
    const early = holds.hold(failedPaths, new AbortController().signal);
    holds.settle(early.token, 'no reader here');
    await assert.rejects(early.acked, { code: 'ERR_ABORTED' });
    closeSync(openWriter(failedPaths.stderr));
    early.release();
    early.release();
    assert.throws(() => openWriter(failedPaths.stderr), { code: 'ENXIO' });
  });
});
