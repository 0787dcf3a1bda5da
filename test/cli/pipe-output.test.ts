// The foreground output copy of `salvo run` and `salvo exec` reads the process's output no faster
// than its reader takes it: with a slow reader the rest waits in the pipe, not in salvo's memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pipe } from '../../src/cli/pipe-output.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const CHUNK = 64 * 1024;
const CHUNKS = 512; // 32 MiB

/** A producer as fast as `yes`: it has the next chunk whenever it is asked. */
function fastProducer(): Readable & { produced: () => number } {
  let produced = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced === CHUNKS) this.push(null);
      else {
        produced++;
        this.push(Buffer.alloc(CHUNK, 0x79));
      }
    },
  });
  return Object.assign(stream, { produced: () => produced });
}

describe('pipe (salvo run and exec output)', () => {
  it('reads no more than a few chunks ahead of a slow reader, and copies everything to it and to the log', async () => {
    const from = fastProducer();
    let written = 0;
    let aheadMax = 0;
    // A reader that takes one chunk per timer tick: far slower than the producer.
    const to = new Writable({
      highWaterMark: CHUNK,
      write(chunk: Buffer, _encoding, done) {
        aheadMax = Math.max(aheadMax, from.produced() * CHUNK - written);
        written += chunk.length;
        setTimeout(done, 1);
      },
    });
    const log = join(tempDir(), 'stdout.log');
    await pipe(from, to, log);
    await new Promise((resolve) => to.end(resolve));
    assert.equal(written, CHUNKS * CHUNK);
    assert.equal(readFileSync(log).length, CHUNKS * CHUNK, 'the log has it all');
    // Without backpressure the producer runs to the end at once: all 32 MiB ahead of the reader.
    assert.ok(aheadMax <= 16 * CHUNK, `read ${aheadMax / CHUNK} chunks ahead of the reader`);
  });
});
