// A start under salvo-init is reported once salvo-init holds signals: what counts as holding them,
// and the wait on real processes (one that never will, one that ends while waited for).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { readProcStat, type ProcStat } from '../../src/io/procfs.js';
import { INIT_COMM, initHoldsSignals, waitUntilInitHoldsSignals } from '../../src/worker/init-ready.js';

const SIGTERM_BIT = 1 << 14;
const base: ProcStat = { comm: INIT_COMM, state: 'S', ppid: 0, pgrp: 1, session: 1, startTime: 1, blockedSignals: 0x7ffbfeff };

describe('initHoldsSignals', () => {
  it('is true for salvo-init with SIGTERM blocked, the mount path basename being its name', () => {
    assert.equal(INIT_COMM, '.salvo-init');
    assert.equal(initHoldsSignals(base), true);
  });

  it('is false for salvo-init before it blocked signals, and for the runtime still in its place', () => {
    assert.equal(initHoldsSignals({ ...base, blockedSignals: 0 }), false);
    assert.equal(initHoldsSignals({ ...base, blockedSignals: 0x7fffffff & ~SIGTERM_BIT }), false);
    assert.equal(initHoldsSignals({ ...base, comm: 'runc:[2:INIT]' }), false);
  });

  it('is true for a process that has already ended (a zombie): there is nothing to wait for', () => {
    assert.equal(initHoldsSignals({ ...base, comm: 'sleep', blockedSignals: 0, state: 'Z' }), true);
  });
});

describe('waitUntilInitHoldsSignals', () => {
  it('gives up after its limit on a process that is not salvo-init, and says so', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    try {
      const stat = readProcStat(child.pid as number) as ProcStat;
      assert.equal(await waitUntilInitHoldsSignals(child.pid as number, stat, 40), false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('returns true once the waited-for process has gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const stat = readProcStat(child.pid as number) as ProcStat;
    const waited = waitUntilInitHoldsSignals(child.pid as number, stat, 60_000);
    child.kill('SIGKILL');
    assert.equal(await waited, true);
  });
});
