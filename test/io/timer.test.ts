// The timer helper: delays of 2^31 ms and more must not fire at once (Node makes them 1 ms).
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Backoff, MAX_TIMER_MS, delay, startTimer } from '../../src/io/timer.js';

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

describe('Backoff', () => {
  it('doubles its delay from the first to the cap, counts failures, and starts over after a success', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const backoff = new Backoff(10, 40);
      const firedAt: number[] = [];
      let clock = 0;
      const tick = (ms: number): void => {
        for (let i = 0; i < ms; i++) {
          clock++;
          mock.timers.tick(1);
        }
      };
      const fails: number[] = [];
      for (let i = 0; i < 4; i++) {
        fails.push(backoff.retry(() => firedAt.push(clock)));
        tick(50);
      }
      assert.deepEqual(fails, [1, 2, 3, 4]);
      assert.deepEqual(firedAt, [10, 70, 140, 190], 'delays 10, 20, 40, 40 (capped)');
      backoff.succeeded();
      assert.equal(
        backoff.retry(() => firedAt.push(clock)),
        1,
      );
      tick(10);
      assert.equal(firedAt.at(-1), 210, 'the first delay again');
    } finally {
      mock.timers.reset();
    }
  });

  it('never calls a retry that was cancelled or replaced by a newer one', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const backoff = new Backoff(10, 1000);
      let old = 0;
      let replaced = 0;
      backoff.retry(() => old++);
      backoff.cancel();
      mock.timers.tick(100);
      assert.equal(old, 0);
      backoff.retry(() => old++);
      backoff.retry(() => replaced++);
      mock.timers.tick(1000);
      assert.deepEqual([old, replaced], [0, 1]);
    } finally {
      mock.timers.reset();
    }
  });
});
