import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PassCost } from '../../src/reaper/pass-cost.js';

describe('PassCost', () => {
  it('sums passes and exits, keeps the largest pass, and splits µs per exit between waitid and the handler', () => {
    const cost = new PassCost();
    cost.record(3, 0.3, 0.06);
    cost.record(1, 0.1, 0.02);
    assert.equal(cost.passes, 2);
    assert.equal(cost.exits, 4);
    assert.equal(cost.largestPass, 3);
    const perExit = cost.perExitUs();
    assert.ok(Math.abs(perExit.reap - 100) < 1e-9);
    assert.ok(Math.abs(perExit.handler - 20) < 1e-9);
  });

  it('starts again from nothing after reset, and reports 0 µs per exit with no exits', () => {
    const cost = new PassCost();
    cost.record(5, 1, 1);
    cost.reset();
    assert.deepEqual([cost.passes, cost.exits, cost.largestPass], [0, 0, 0]);
    assert.deepEqual(cost.perExitUs(), { reap: 0, handler: 0 });
  });

  it('with scheduling on, counts the main thread time on a CPU during a pass from its schedstat', () => {
    const cost = new PassCost();
    assert.equal(cost.begin(), null, 'off by default: no /proc read per pass');
    cost.scheduling = true;
    const before = cost.begin();
    assert.ok(before !== null && before.onCpuNs > 0);
    // Busy until this thread's own schedstat says 20 ms on a CPU (process.cpuUsage counts Node's other
    // threads too, and under load they take part of it): the pass must then count at least that.
    const onCpuNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    while (onCpuNs() - before.onCpuNs < 20e6);
    cost.record(1, 20, 0, before);
    assert.ok(cost.onCpuMs >= 20, `on CPU ${cost.onCpuMs} ms`);
    assert.ok(cost.onCpuMs + cost.waitingForCpuMs < 1000);
  });
});
