import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAgo, formatMs } from '../../src/cli/format.js';

describe('formatMs', () => {
  it('prints milliseconds, seconds, minutes and hours', () => {
    assert.equal(formatMs(250), '250ms');
    assert.equal(formatMs(1500), '1.50s');
    assert.equal(formatMs(12_340), '12.3s');
    assert.equal(formatMs(185_000), '3m5s');
    assert.equal(formatMs(2 * 3_600_000 + 5 * 60_000), '2h5m');
  });

  it('never prints 60 in the seconds or minutes place: the whole is rounded first', () => {
    assert.equal(formatMs(119_600), '2m0s');
    assert.equal(formatMs(3_599_600), '1h0m');
    assert.equal(formatMs(3_600_000 + 59 * 60_000 + 45_000), '2h0m');
  });
});

describe('formatAgo', () => {
  it('says how long ago, or - when there is no time', () => {
    assert.equal(formatAgo(null), '-');
    assert.equal(formatAgo(1000, 3500), '2.50s ago');
  });
});
