// Recovery planning: adopt what still runs as the same process, mark everything else lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRecovery, type RecoveryProbe } from '../../src/store/recovery.js';
import type { UnresolvedRecord } from '../../src/store/store.js';

const TICK_MS = 10;
const BOOT_MS = 1_700_000_000_000;
const SUBSCRIBED_AT = BOOT_MS + 500_000; // tick 50,000

function record(extra: Partial<UnresolvedRecord>): UnresolvedRecord {
  return {
    seq: 1,
    id: 'c1',
    execId: 'init',
    state: 'running',
    pid: null,
    pidStartTime: null,
    runtimeExitCode: null,
    errorCode: null,
    errorMessage: null,
    exitCode: null,
    signal: null,
    rusage: null,
    subscribedAt: SUBSCRIBED_AT,
    startedAt: null,
    exitedAt: null,
    batchId: null,
    labels: {},
    bundle: null,
    dir: '/state/containers/c1/init',
    launcher: 1,
    ...extra,
  };
}

/** A fake host: live pids with their start ticks, and pid files by process directory. */
function probe(live: Record<number, number>, pidFiles: Record<string, number> = {}): RecoveryProbe {
  return {
    startTimeOf: (pid) => live[pid] ?? null,
    pidFileOf: (dir) => pidFiles[dir] ?? null,
    ticksToEpochMs: (ticks) => BOOT_MS + ticks * TICK_MS,
  };
}

describe('planRecovery', () => {
  it('adopts a running record whose pid lives with the same start time', () => {
    const r = record({ pid: 100, pidStartTime: 60_000 });
    assert.deepEqual(planRecovery([r], probe({ 100: 60_000 })), [{ kind: 'adopt', record: r, pid: 100, pidStartTime: 60_000 }]);
  });

  it('marks a running record lost when its pid now has another start time (pid reuse)', () => {
    const r = record({ pid: 100, pidStartTime: 60_000 });
    const [action] = planRecovery([r], probe({ 100: 70_000 }));
    assert.equal(action?.kind, 'lost');
    assert.match(action?.kind === 'lost' ? action.reason : '', /another process/);
  });

  it('marks a running record lost when its pid is dead', () => {
    const r = record({ pid: 100, pidStartTime: 60_000 });
    const [action] = planRecovery([r], probe({}));
    assert.equal(action?.kind, 'lost');
    assert.equal(action?.record, r);
  });

  it('adopts a subscribed record whose pid file names a process started after the subscription', () => {
    const r = record({ state: 'subscribed' });
    const actions = planRecovery([r], probe({ 200: 50_100 }, { [r.dir]: 200 }));
    assert.deepEqual(actions, [{ kind: 'adopt', record: r, pid: 200, pidStartTime: 50_100 }]);
  });

  it('adopts within the one-second slack of boot time, but not before it', () => {
    const r = record({ state: 'subscribed' });
    assert.equal(planRecovery([r], probe({ 200: 50_000 - 100 }, { [r.dir]: 200 }))[0]?.kind, 'adopt'); // 1 s earlier
    assert.equal(planRecovery([r], probe({ 200: 50_000 - 101 }, { [r.dir]: 200 }))[0]?.kind, 'lost');
  });

  it('marks a subscribed record lost when its pid file names a process started long before the subscription', () => {
    const r = record({ state: 'subscribed' });
    const [action] = planRecovery([r], probe({ 200: 1_000 }, { [r.dir]: 200 }));
    assert.equal(action?.kind, 'lost');
  });

  it('marks a subscribed record lost when its pid file names a dead process', () => {
    const r = record({ state: 'subscribed' });
    assert.equal(planRecovery([r], probe({}, { [r.dir]: 200 }))[0]?.kind, 'lost');
  });

  it('marks a subscribed record without a pid file lost', () => {
    const r = record({ state: 'subscribed' });
    const [action] = planRecovery([r], probe({ 200: 50_100 }));
    assert.equal(action?.kind, 'lost');
    assert.match(action?.kind === 'lost' ? action.reason : '', /stopped during the start/);
  });

  it('plans one action per record, in order', () => {
    const a = record({ seq: 1, pid: 100, pidStartTime: 60_000 });
    const b = record({ seq: 2, state: 'subscribed', dir: '/d/b' });
    const c = record({ seq: 3, pid: 101, pidStartTime: 5 });
    const actions = planRecovery([a, b, c], probe({ 100: 60_000, 101: 6 }));
    assert.deepEqual(
      actions.map((x) => [x.record.seq, x.kind]),
      [
        [1, 'adopt'],
        [2, 'lost'],
        [3, 'lost'],
      ],
    );
    assert.deepEqual(planRecovery([], probe({})), []);
  });
});
