// /proc/<pid>/stat parsing: comm may hold spaces and parentheses; start time is a process's identity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProcStat, readProcStat, startTimeToEpochMs } from '../../src/io/procfs.js';

// Fields 3 to 52 of a real stat line; field 22 (start time) is 98765, field 32 (blocked) SIGTERM's bit.
const REST =
  'S 1 1234 1234 0 -1 4194560 1000 0 0 0 12 3 0 0 20 0 1 0 98765 10000000 500 18446744073709551615 ' +
  '1 1 0 0 0 0 16384 0 0 0 0 0 17 2 0 0 0 0 0 0 0 0 0 0 0 0 0';

describe('parseProcStat', () => {
  it('counts fields after the last ")" when comm holds spaces and parentheses', () => {
    assert.deepEqual(parseProcStat(`1234 (a (b) c) ${REST}\n`), {
      comm: 'a (b) c',
      state: 'S',
      ppid: 1,
      pgrp: 1234,
      session: 1234,
      startTime: 98765,
      blockedSignals: 16384,
    });
  });

  it('reads a comm that ends with ") " and looks like more fields', () => {
    const stat = parseProcStat(`77 (x) Z 9 9 9) ${REST.replace(/^S/, 'Z')}`);
    assert.equal(stat?.comm, 'x) Z 9 9 9');
    assert.equal(stat?.state, 'Z');
    assert.equal(stat?.startTime, 98765);
  });

  it('returns null for text without a comm or with too few fields', () => {
    assert.equal(parseProcStat(''), null);
    assert.equal(parseProcStat('1234 no parentheses S 1'), null);
    assert.equal(parseProcStat('1234 (short) S 1 2 3'), null);
  });
});

describe('readProcStat', () => {
  it('reads this process with a stable start time', () => {
    const first = readProcStat(process.pid);
    const second = readProcStat(process.pid);
    assert.ok(first !== null && second !== null);
    assert.equal(first.ppid, process.ppid);
    assert.equal(first.state, 'R');
    assert.ok(Number.isInteger(first.startTime) && first.startTime > 0);
    assert.equal(second.startTime, first.startTime);
  });

  it('returns null for a pid that does not exist', () => {
    // Above the largest pid_max Linux allows (2^22), so never a live process.
    assert.equal(readProcStat(4_194_304 + 1), null);
  });
});

describe('startTimeToEpochMs', () => {
  it('converts this process start time to within two seconds of the real start', () => {
    const stat = readProcStat(process.pid);
    assert.ok(stat !== null);
    const expected = Date.now() - process.uptime() * 1000;
    const actual = startTimeToEpochMs(stat.startTime);
    assert.ok(Math.abs(actual - expected) < 2000, `start ${actual} vs ${expected}: off by ${actual - expected} ms`);
  });

  it('grows by ten milliseconds per clock tick', () => {
    assert.equal(startTimeToEpochMs(200) - startTimeToEpochMs(100), 1000);
  });
});
