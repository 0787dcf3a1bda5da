// The timer helper: delays of 2^31 ms and more must not fire at once (Node makes them 1 ms).
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { MAX_TIMER_MS, delay, startTimer } from '../../src/io/timer.js';

describe('startTimer', () => {
  it('fires a delay of 2^31 ms or more only once all of it has passed', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let fired = 0;
      const total = 30 * 86_400_000; // 30 days: 2.59e9 ms
      startTimer(() => fired++, total);
      mock.timers.tick(1);
      assert.equal(fired, 0, 'not after 1 ms (what a bare setTimeout would do)');
      mock.timers.tick(MAX_TIMER_MS - 1);
      assert.equal(fired, 0, 'not after 2^31 - 1 ms');
      mock.timers.tick(total - MAX_TIMER_MS - 1);
      assert.equal(fired, 0, 'not 1 ms early');
      mock.timers.tick(1);
      assert.equal(fired, 1);
    } finally {
      mock.timers.reset();
    }
  });

  it('does not fire once cleared, even between two chained steps', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let fired = 0;
      const timer = startTimer(() => fired++, 2 ** 31 + 5);
      mock.timers.tick(MAX_TIMER_MS + 1);
      timer.clear();
      mock.timers.tick(10);
      assert.equal(fired, 0);
      const short = startTimer(() => fired++, 5);
      mock.timers.tick(5);
      short.clear();
      assert.equal(fired, 1, 'a short delay fires once');
    } finally {
      mock.timers.reset();
    }
  });

  it('resolves delay(0) soon', async () => {
    await delay(0);
  });
});
