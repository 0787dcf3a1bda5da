// salvo batch's line per job: an exit the store could not record is flagged, never printed `ok`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanLine } from '../../../src/cli/commands/batch.js';
import { createStyle } from '../../../src/cli/style.js';
import { jobResult } from '../report/fixtures.js';

const plain = createStyle({ isTTY: false }, {});

describe('humanLine', () => {
  it('prints ok for a recorded exit 0, and unrecorded with the kernel status and the code for one the store never got', () => {
    assert.match(humanLine(jobResult({ index: 0, state: 'exited', exitCode: 0 }), plain), /^ok\s+b1-0/);
    const error = { code: 'ERR_EXIT_NOT_RECORDED', message: 'not recorded' };
    const line = humanLine({ ...jobResult({ index: 1, state: 'exited', exitCode: 137, signal: 'SIGKILL' }), error }, plain);
    assert.match(line, /^unrecorded b1-1: exit 137 \(SIGKILL\), not recorded in the store \(ERR_EXIT_NOT_RECORDED\)/);
    const zero = humanLine({ ...jobResult({ index: 2, state: 'exited', exitCode: 0 }), error }, plain);
    assert.doesNotMatch(zero, /^ok/);
  });
});
