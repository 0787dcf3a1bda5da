// The real reaper: a subreaper that reaps exactly the pids it tracks, each exit reported once.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { readProcStat } from '../../src/io/procfs.js';
import { native } from '../../src/native.js';
import { Reaper, decodeRecords, trackedPids, type ReapedExit } from '../../src/reaper/reaper.js';
import { isZombie, orphan, orphans, waitForZombie, waitForZombieSync } from './processes.js';

/** A reaper whose exits are collected; `until(n)` resolves once n exits have arrived. */
function openReaper() {
  const exits: ReapedExit[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  const reaper = Reaper.open((batch) => {
    exits.push(...batch);
    if (waiter !== undefined && exits.length >= waiter.count) waiter.resolve();
  });
  const until = (count: number, timeoutMs = 10_000): Promise<void> =>
    exits.length >= count
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${exits.length} of ${count} exits after ${timeoutMs} ms`)), timeoutMs);
          waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
        });
  return { reaper, exits, until };
}

const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Reaper', () => {
  it('makes this process a child subreaper', () => {
    const { reaper } = openReaper();
    reaper.close();
    assert.equal(native().isChildSubreaper(), true);
  });

  it('reports a re-parented process exit once, with exit code 0 and rusage', async () => {
    const { reaper, exits, until } = openReaper();
    try {
      const pid = Number(execFileSync('/bin/sh', ['-c', 'sleep 0.3 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).trim());
      assert.equal(readProcStat(pid)?.ppid, process.pid, 'the sleep was re-parented to this process');
      reaper.track(pid);
      assert.equal(reaper.isTracking(pid), true);
      assert.equal(exits.length, 0, 'not reported while it runs');
      await until(1);
      await settle();
      assert.equal(exits.length, 1);
      const [exit] = exits;
      assert.equal(exit?.pid, pid);
      assert.equal(exit?.kind, 'exited');
      assert.equal(exit?.exitCode, 0);
      assert.equal(exit?.signal, null);
      assert.ok(typeof exit?.userUs === 'number' && typeof exit.systemUs === 'number');
      assert.ok((exit?.maxRssKb ?? 0) > 0, 'max RSS of a real process is above 0');
      assert.equal(reaper.isTracking(pid), false);
      assert.equal(reaper.size, 0);
      assert.equal(trackedPids.has(pid), false);
      assert.equal(readProcStat(pid), null, 'no zombie is left');
    } finally {
      reaper.close();
    }
  });

  it('reports a process that is already a zombie from within track()', async () => {
    const { reaper, exits } = openReaper();
    try {
      const pid = orphan('exit 0');
      await waitForZombie(pid);
      reaper.track(pid);
      assert.deepEqual(
        exits.map((e) => [e.pid, e.kind, e.exitCode]),
        [[pid, 'exited', 0]],
      );
      await settle();
      assert.equal(exits.length, 1);
    } finally {
      reaper.close();
    }
  });

  it('reports the exit code a process exits with', async () => {
    const { reaper, exits, until } = openReaper();
    try {
      const pid = orphan('exit 42');
      reaper.track(pid);
      await until(1);
      assert.deepEqual(
        exits.map((e) => [e.pid, e.kind, e.exitCode, e.signal]),
        [[pid, 'exited', 42, null]],
      );
    } finally {
      reaper.close();
    }
  });

  it('reports a SIGKILL death as signal SIGKILL and exit code 137', async () => {
    const { reaper, exits, until } = openReaper();
    try {
      const pid = orphan('kill -9 $$');
      reaper.track(pid);
      await until(1);
      assert.deepEqual(
        exits.map((e) => [e.pid, e.kind, e.exitCode, e.signal]),
        [[pid, 'signaled', 137, 'SIGKILL']],
      );
      assert.notEqual(exits[0]?.userUs, null);
    } finally {
      reaper.close();
    }
  });

  it('reports each of 100 processes tracked at once exactly once', async () => {
    const { reaper, exits, until } = openReaper();
    try {
      const pids = orphans(100, 'exit $1');
      for (const pid of pids) reaper.track(pid);
      await until(100);
      await settle();
      assert.equal(exits.length, 100);
      const byPid = new Map(exits.map((e) => [e.pid, e]));
      assert.equal(byPid.size, 100, 'no pid reported twice');
      pids.forEach((pid, i) => assert.equal(byPid.get(pid)?.exitCode, i + 1, `pid ${pid}`));
      assert.equal(reaper.size, 0);
      assert.equal(reaper.passCost.exits, 100, 'the pass costs count every exit');
      assert.ok(reaper.passCost.passes >= 1 && reaper.passCost.largestPass <= 100);
      assert.equal(reaper.passLatency.count, 100);
    } finally {
      reaper.close();
    }
  });

  it('never reaps an untracked child: a spawned child still gets its own exit event', async () => {
    const { reaper, exits } = openReaper();
    try {
      const child = spawn('/bin/sh', ['-c', 'exit 3'], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      const tracked = orphan('exit 5');
      // Both are zombies before libuv can run its SIGCHLD handler; the passes see both.
      waitForZombieSync(child.pid as number);
      waitForZombieSync(tracked);
      reaper.track(tracked);
      reaper.pass();
      assert.deepEqual(
        exits.map((e) => [e.pid, e.exitCode]),
        [[tracked, 5]],
      );
      assert.equal(isZombie(child.pid as number), true, 'the pass left the spawned child alone');
      assert.deepEqual(await exited, [3, null]);
    } finally {
      reaper.close();
    }
  });

  it('reports a tracked process that is not its child as unknown, 255, without rusage', async () => {
    const { reaper, exits, until } = openReaper();
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const parentExited = once(parent, 'exit');
    try {
      const [data] = (await once(parent.stdout, 'data')) as [Buffer];
      const pid = Number(data.toString().trim());
      reaper.track(pid);
      await until(1);
      assert.deepEqual(exits, [{ pid, kind: 'unknown', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null }]);
      assert.deepEqual(await parentExited, [0, null]);
    } finally {
      reaper.close();
    }
  });

  it('reports the real exit of a process that exited while another process was still its parent', async () => {
    // crun's run -d returns before its intermediate process exits: the container may die first.
    const { reaper, exits, until } = openReaper();
    const script = 'my $p = fork(); if ($p == 0) { exit 3 } $| = 1; print "$p\\n"; select(undef, undef, undef, 0.3);';
    const parent = spawn('/usr/bin/perl', ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [data] = (await once(parent.stdout, 'data')) as [Buffer];
      const pid = Number(data.toString().trim());
      await waitForZombie(pid);
      assert.notEqual(readProcStat(pid)?.ppid, process.pid, "still the other parent's zombie");
      reaper.track(pid);
      await until(1);
      assert.equal(exits[0]?.kind, 'exited');
      assert.equal(exits[0]?.exitCode, 3);
      assert.equal(readProcStat(pid), null, 'no zombie is left');
    } finally {
      reaper.close();
    }
  });

  it('tracks a pid once however often track() is called, and untrack() leaves it unreaped', async () => {
    const { reaper, exits } = openReaper();
    try {
      const pid = orphan('sleep 0.1'); // still running after the first track()'s own pass
      reaper.track(pid);
      reaper.track(pid);
      assert.equal(reaper.size, 1);
      reaper.untrack(pid);
      assert.equal(reaper.size, 0);
      assert.equal(trackedPids.has(pid), false);
      await waitForZombie(pid);
      reaper.pass();
      assert.equal(exits.length, 0);
      assert.equal(isZombie(pid), true);
      assert.ok(native().waitPid(pid) !== null); // clean up
    } finally {
      reaper.close();
    }
  });

  it('throws ESRCH when tracking a pid that does not exist', () => {
    const { reaper } = openReaper();
    try {
      assert.throws(() => reaper.track(4_194_305), { code: 'ESRCH' });
      assert.equal(reaper.size, 0);
    } finally {
      reaper.close();
    }
  });

  it('tracks patiently only the process that started at the given time: a reused pid is refused', async () => {
    const { reaper, exits, until } = openReaper();
    const pid = orphan('sleep 0.3');
    try {
      const startTime = readProcStat(pid)?.startTime as number;
      await assert.rejects(reaper.trackPatiently(pid, startTime + 1), { code: 'ESRCH', message: /now belongs to another process/ });
      assert.equal(reaper.isTracking(pid), false);
      assert.equal(trackedPids.has(pid), false, 'left to the orphan sweep again');
      assert.equal(await reaper.trackPatiently(pid, startTime), 0, 'no wait when an fd is free');
      assert.equal(reaper.isTracking(pid), true);
      await until(1);
      assert.equal(exits[0]?.pid, pid);
    } finally {
      reaper.close();
    }
  });

  it('refuses to track once closed, and forgets what it tracked', () => {
    const { reaper } = openReaper();
    const pid = orphan('sleep 0.1');
    reaper.track(pid);
    reaper.close();
    assert.equal(trackedPids.has(pid), false);
    assert.throws(() => reaper.track(pid), { code: 'ERR_LAUNCHER_CLOSED' });
    assert.equal(reaper.pass(), 0);
    waitForZombieSync(pid);
    assert.ok(native().waitPid(pid) !== null); // clean up
  });
});

describe('decodeRecords', () => {
  it('decodes exited, signaled and not-our-child records', () => {
    const records = new Float64Array([10, 0, 3, 1500, 250, 2048, 11, 1, 9, 100, 200, 300, 12, 2, 0, 0, 0, 0]);
    assert.deepEqual(decodeRecords(records), [
      { pid: 10, kind: 'exited', exitCode: 3, signal: null, userUs: 1500, systemUs: 250, maxRssKb: 2048 },
      { pid: 11, kind: 'signaled', exitCode: 137, signal: 'SIGKILL', userUs: 100, systemUs: 200, maxRssKb: 300 },
      { pid: 12, kind: 'unknown', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null },
    ]);
  });

  it('names signals by number, and an unknown number as SIG<n>', () => {
    const [term, odd] = decodeRecords(new Float64Array([1, 1, 15, 0, 0, 0, 2, 1, 99, 0, 0, 0]));
    assert.deepEqual([term?.signal, term?.exitCode], ['SIGTERM', 143]);
    assert.deepEqual([odd?.signal, odd?.exitCode], ['SIG99', 227]);
  });

  it('names signals 6 and 29 SIGABRT and SIGIO, as kill -l does, not by their aliases', () => {
    const [abrt, io] = decodeRecords(new Float64Array([1, 1, 6, 0, 0, 0, 2, 1, 29, 0, 0, 0]));
    assert.equal(abrt?.signal, 'SIGABRT');
    assert.equal(io?.signal, 'SIGIO');
  });

  it('decodes an empty array to no exits', () => {
    assert.deepEqual(decodeRecords(new Float64Array(0)), []);
  });
});
