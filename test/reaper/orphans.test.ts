// The orphan sweep: untracked re-parented zombies are reaped after a grace period and reported;
// runtime helpers at once and silently; tracked pids never.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readProcStat } from '../../src/io/procfs.js';
import { native } from '../../src/native.js';
import { OrphanSweeper } from '../../src/reaper/orphans.js';
import { trackedPids, type ReapedExit } from '../../src/reaper/reaper.js';
import { isZombie, orphan, waitForZombie } from './processes.js';

describe('OrphanSweeper', () => {
  before(() => native().setChildSubreaper());

  it('reaps an untracked re-parented zombie only after its grace period, and reports it', async () => {
    const reported: ReapedExit[] = [];
    const sweeper = new OrphanSweeper(200, (orphans) => reported.push(...orphans));
    try {
      const pid = orphan('exit 9');
      await waitForZombie(pid);
      const t = Date.now();
      assert.deepEqual(sweeper.sweep(t), []);
      assert.deepEqual(sweeper.sweep(t + 199), []);
      assert.equal(isZombie(pid), true, 'still a zombie within the grace period');
      assert.deepEqual(reported, []);
      const reaped = sweeper.sweep(t + 200);
      assert.deepEqual(
        reaped.map((e) => [e.pid, e.kind, e.exitCode]),
        [[pid, 'exited', 9]],
      );
      assert.deepEqual(reported, reaped);
      assert.equal(readProcStat(pid), null, 'reaped');
      assert.deepEqual(sweeper.sweep(t + 1000), []);
    } finally {
      sweeper.stop();
    }
  });

  it('reaps a zombie that the helper test claims at once, without reporting it', async () => {
    const reported: ReapedExit[] = [];
    const pid = orphan('exit 0');
    await waitForZombie(pid);
    const startTime = readProcStat(pid)?.startTime;
    const sweeper = new OrphanSweeper(
      60_000,
      (orphans) => reported.push(...orphans),
      (stat) => stat.startTime === startTime,
    );
    try {
      assert.deepEqual(sweeper.sweep(Date.now()), []);
      assert.equal(sweeper.helpersReaped, 1);
      assert.equal(readProcStat(pid), null, 'reaped');
      assert.deepEqual(reported, []);
    } finally {
      sweeper.stop();
    }
  });

  it('never reaps a pid a reaper tracks, however long it has been a zombie', async () => {
    const reported: ReapedExit[] = [];
    const sweeper = new OrphanSweeper(200, (orphans) => reported.push(...orphans));
    const pid = orphan('exit 0');
    try {
      await waitForZombie(pid);
      trackedPids.add(pid);
      const t = Date.now();
      assert.deepEqual(sweeper.sweep(t), []);
      assert.deepEqual(sweeper.sweep(t + 60_000), []);
      assert.equal(isZombie(pid), true);
      trackedPids.delete(pid);
      // Once untracked, it is an orphan like any other: first seen now, reaped after the grace.
      assert.deepEqual(sweeper.sweep(t + 60_001), []);
      assert.deepEqual(
        sweeper.sweep(t + 60_201).map((e) => e.pid),
        [pid],
      );
      assert.equal(reported.length, 1);
    } finally {
      trackedPids.delete(pid);
      sweeper.stop();
    }
  });

  it('leaves re-parented processes that still run alone', async () => {
    const sweeper = new OrphanSweeper(0, () => assert.fail('nothing should be reported'));
    const pid = orphan('sleep 0.2');
    try {
      const t = Date.now();
      assert.deepEqual(sweeper.sweep(t), []);
      assert.deepEqual(sweeper.sweep(t + 10_000), []);
      assert.notEqual(readProcStat(pid)?.state, 'Z');
    } finally {
      sweeper.stop();
      await waitForZombie(pid);
      native().waitPid(pid);
    }
  });

  it('never sweeps again once stopped, even after a last sweep that saw a zombie within its grace', async () => {
    const reported: ReapedExit[] = [];
    const sweeper = new OrphanSweeper(50, (orphans) => reported.push(...orphans));
    sweeper.start();
    const pid = orphan('exit 0');
    try {
      await waitForZombie(pid);
      sweeper.stop();
      // The launcher's shutdown sweeps once more after stop; its store closes right after.
      assert.deepEqual(sweeper.sweep(), []);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.deepEqual(reported, []);
      assert.equal(isZombie(pid), true, 'left for a later owner');
    } finally {
      native().waitPid(pid);
    }
  });

  it('drains before a close: a zombie still in its grace period is reaped, and no sweep runs afterwards', async () => {
    const reported: ReapedExit[] = [];
    const sweeper = new OrphanSweeper(300, (orphans) => reported.push(...orphans));
    sweeper.start();
    const pid = orphan('exit 4');
    await waitForZombie(pid);
    sweeper.sweep();
    assert.equal(isZombie(pid), true, 'seen, within its grace period');
    const began = Date.now();
    await sweeper.drain();
    assert.ok(Date.now() - began < 5000, 'drain waits about one grace period, not forever');
    assert.deepEqual(
      reported.map((e) => [e.pid, e.exitCode]),
      [[pid, 4]],
    );
    assert.equal(readProcStat(pid), null, 'reaped');
    const late = orphan('exit 0');
    await waitForZombie(late);
    sweeper.schedule(0);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(isZombie(late), true, 'a stopped sweeper arms no timer');
    native().waitPid(late);
  });
});
