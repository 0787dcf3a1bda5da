// Counting a batch's outcomes, its exit status and its one-line summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchExitStatus, formatSummaryLine, summarize } from '../../../src/cli/report/summary.js';
import { everyState, jobResult } from './fixtures.js';

describe('summarize', () => {
  it('counts each state once, splitting exits into zero and non-zero', () => {
    assert.deepEqual(summarize(everyState(), 12_345), {
      total: 7,
      succeeded: 1,
      nonZero: 2,
      failed: 1,
      lost: 1,
      canceled: 1,
      timedOut: 1,
      notRecorded: 0,
      wallMs: 12_345,
    });
  });

  it('counts an exit killed by a signal as non-zero', () => {
    const summary = summarize([jobResult({ index: 0, state: 'exited', exitCode: 137, signal: 'SIGKILL' })], 1);
    assert.equal(summary.nonZero, 1);
    assert.equal(summary.succeeded, 0);
  });

  it('gives all zeros for an empty batch', () => {
    const summary = summarize([], 0);
    assert.equal(summary.total, 0);
    assert.equal(summary.succeeded + summary.nonZero + summary.failed + summary.lost + summary.canceled + summary.timedOut, 0);
  });
});

describe('an exit the store could not record', () => {
  it('is never counted ok, even with exit code 0, and the line says so; the status is 1', () => {
    const error = { code: 'ERR_EXIT_NOT_RECORDED', message: 'job x exited but the store could not record its exit' };
    const summary = summarize(
      [jobResult({ index: 0, state: 'exited', exitCode: 0 }), { ...jobResult({ index: 1, state: 'exited', exitCode: 0 }), error }],
      1000,
    );
    assert.equal(summary.succeeded, 1);
    assert.equal(summary.notRecorded, 1);
    assert.equal(batchExitStatus(summary), 1);
    assert.equal(formatSummaryLine(summary), '2 jobs: 1 ok, 1 not recorded in 1.0 s');
  });
});

describe('batchExitStatus', () => {
  it('is 0 when every job exited with 0', () => {
    const ok = [0, 1, 2].map((index) => jobResult({ index, state: 'exited', exitCode: 0 }));
    assert.equal(batchExitStatus(summarize(ok, 10)), 0);
  });

  it('is 0 for an empty batch', () => {
    assert.equal(batchExitStatus(summarize([], 0)), 0);
  });

  it('is 1 when any job did not exit with 0, whatever its state', () => {
    for (const bad of everyState().slice(1)) {
      const results = [jobResult({ index: 0, state: 'exited', exitCode: 0 }), { ...bad, index: 1 }];
      assert.equal(batchExitStatus(summarize(results, 10)), 1, bad.state);
    }
  });
});

describe('formatSummaryLine', () => {
  it('names every non-zero category in a fixed order with the wall time in seconds', () => {
    const line = formatSummaryLine({
      total: 300,
      succeeded: 280,
      nonZero: 15,
      failed: 2,
      lost: 0,
      timedOut: 1,
      canceled: 2,
      notRecorded: 0,
      wallMs: 12_340,
    });
    assert.equal(line, '300 jobs: 280 ok, 15 exit≠0, 2 failed, 1 timed out, 2 canceled in 12.3 s');
  });

  it('includes lost jobs when there are some', () => {
    assert.equal(formatSummaryLine(summarize(everyState(), 2000)), '7 jobs: 1 ok, 2 exit≠0, 1 failed, 1 lost, 1 timed out, 1 canceled in 2.0 s');
  });

  it('always says how many were ok, even none, and omits the other zero categories', () => {
    assert.equal(formatSummaryLine(summarize([], 0)), '0 jobs: 0 ok in 0.0 s');
    assert.equal(formatSummaryLine(summarize([jobResult({ index: 0, state: 'exited', exitCode: 0 })], 50)), '1 job: 1 ok in 0.1 s');
  });
});
