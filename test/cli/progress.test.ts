// Batch progress: a throttled bar on a terminal, plain periodic lines elsewhere, never in the way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAR_REFRESH_MS, formatDuration, Progress, REDRAW_MS } from '../../src/cli/progress.js';
import type { ProgressCounts, ProgressOptions, ProgressTimers } from '../../src/cli/progress.js';

const CLEAR = '\r\x1b[2K';

function fakeStream(isTTY: boolean, columns = 120) {
  const writes: string[] = [];
  return {
    writes,
    isTTY,
    columns,
    destroyed: false,
    write(chunk: string) {
      writes.push(chunk);
      return true;
    },
  };
}

interface FakeTimer {
  at: number;
  fn: () => void;
  every: number | null;
  unrefed: boolean;
}

/** A clock and timers that only move when told to. */
function fakeClock() {
  let now = 0;
  const pending = new Set<FakeTimer>();
  const all: FakeTimer[] = [];
  const add = (fn: () => void, ms: number, every: number | null) => {
    const timer: FakeTimer = { at: now + ms, fn, every, unrefed: false };
    const handle = { timer, unref: () => (timer.unrefed = true) };
    pending.add(timer);
    all.push(timer);
    return handle;
  };
  const remove = (handle: unknown) => pending.delete((handle as { timer: FakeTimer }).timer);
  const timers: ProgressTimers = {
    setTimeout: (fn, ms) => add(fn, ms, null),
    setInterval: (fn, ms) => add(fn, ms, ms),
    clearTimeout: remove,
    clearInterval: remove,
  };
  return {
    timers,
    all,
    pending,
    now: () => now,
    /** Moves time forward, firing due timers in order. */
    advance(ms: number) {
      const target = now + ms;
      for (;;) {
        const due = [...pending].filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        now = due.at;
        if (due.every === null) pending.delete(due);
        else due.at += due.every;
        due.fn();
      }
      now = target;
    },
  };
}

function setup(options: Partial<ProgressOptions> & { isTTY?: boolean; columns?: number } = {}) {
  const stream = fakeStream(options.isTTY ?? true, options.columns);
  const clock = fakeClock();
  const progress = new Progress({
    stream,
    total: options.total === undefined ? 300 : options.total,
    env: options.env ?? {},
    now: clock.now,
    timers: clock.timers,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  return { stream, clock, progress };
}

const counts = (done: number, ok = done, failed = 0, running = 8): ProgressCounts => ({ done, ok, failed, running });

describe('Progress modes', () => {
  it('draws a bar on a terminal when CI is unset', () => {
    assert.equal(setup({ isTTY: true }).progress.mode, 'bar');
  });

  it('writes plain lines when the stream is not a terminal', () => {
    assert.equal(setup({ isTTY: false }).progress.mode, 'lines');
  });

  it('writes plain lines under CI even on a terminal', () => {
    assert.equal(setup({ isTTY: true, env: { CI: 'true' } }).progress.mode, 'lines');
    assert.equal(setup({ isTTY: true, env: { CI: '' } }).progress.mode, 'lines');
  });
});

describe('Progress bar', () => {
  it('redraws one line in place with done/total, counts, rate and eta', () => {
    const { stream, clock, progress } = setup();
    clock.advance(10_000);
    progress.update(counts(120, 110, 10, 8));
    assert.equal(stream.writes.length, 1);
    const frame = stream.writes[0]!;
    assert.ok(frame.startsWith(CLEAR), JSON.stringify(frame));
    assert.ok(!frame.includes('\n'));
    assert.match(frame, /\] 120\/300 {2}ok 110 {2}failed 10 {2}running 8 {2}12\.0\/s {2}eta 15s$/);
  });

  it('fills the bar in proportion to done/total and fits the line into the terminal width', () => {
    const { stream, clock, progress } = setup({ columns: 100 });
    clock.advance(10_000);
    progress.update(counts(150));
    const line = stream.writes[0]!.slice(CLEAR.length);
    const bar = /^\[(#*)(-*)\] /.exec(line)!;
    assert.ok(bar !== null, line);
    // Half done: the filled part is half the bar, give or take rounding.
    assert.ok(Math.abs(bar[1]!.length - bar[2]!.length) <= 1, line);
    assert.ok(line.length <= 99, `${line.length} columns`);
  });

  it('shows a full bar and no eta when everything is done', () => {
    const { stream, clock, progress } = setup();
    clock.advance(2000);
    progress.update(counts(300, 300, 0, 0));
    const line = stream.writes[0]!;
    assert.match(line, /\[#+\] 300\/300/);
    assert.ok(!line.includes('eta'));
  });

  it('shows counts and rate without a bar or eta when the total is unknown', () => {
    const { stream, clock, progress } = setup({ total: null });
    clock.advance(4000);
    progress.update(counts(10));
    assert.equal(stream.writes[0], `${CLEAR}10 done  ok 10  failed 0  running 8  2.5/s`);
  });

  it('leaves out the rate in the first second, when it would be noise', () => {
    const { stream, progress } = setup();
    progress.update(counts(1));
    assert.ok(!stream.writes[0]!.includes('/s'));
    assert.ok(!stream.writes[0]!.includes('eta'));
  });

  it('drops the bar and truncates the text on a narrow terminal', () => {
    const { stream, clock, progress } = setup({ columns: 30 });
    clock.advance(10_000);
    progress.update(counts(120));
    const line = stream.writes[0]!.slice(CLEAR.length);
    assert.ok(!line.startsWith('['));
    assert.equal(line.length, 29);
    assert.ok(line.startsWith('120/300  ok 120'));
  });

  it('assumes 80 columns when the stream does not say', () => {
    const { stream, clock, progress } = setup({ columns: 0 });
    clock.advance(10_000);
    progress.update(counts(120));
    const line = stream.writes[0]!.slice(CLEAR.length);
    assert.ok(line.startsWith('['));
    assert.equal(line.length, 79);
  });

  it('redraws at most once per REDRAW_MS and then draws the latest counts', () => {
    const { stream, clock, progress } = setup();
    progress.update(counts(1));
    clock.advance(10);
    progress.update(counts(2));
    clock.advance(40);
    progress.update(counts(3));
    assert.equal(stream.writes.length, 1);
    clock.advance(REDRAW_MS - 50);
    assert.equal(stream.writes.length, 2);
    assert.ok(stream.writes[1]!.includes(' 3/300 '));
    clock.advance(REDRAW_MS * 3);
    assert.equal(stream.writes.length, 2);
  });

  it('draws at once when the last draw was long enough ago', () => {
    const { stream, clock, progress } = setup();
    progress.update(counts(1));
    clock.advance(REDRAW_MS);
    progress.update(counts(2));
    assert.equal(stream.writes.length, 2);
  });

  it('keeps no more than about ten frames a second under a flood of updates', () => {
    const { stream, clock, progress } = setup();
    for (let i = 1; i <= 1000; i++) {
      progress.update(counts(i));
      clock.advance(1);
    }
    assert.ok(stream.writes.length <= 11, `${stream.writes.length} frames in one second`);
    assert.ok(stream.writes.length >= 9, `${stream.writes.length} frames in one second`);
  });

  it('redraws every BAR_REFRESH_MS without updates so the rate and eta stay current', () => {
    const { stream, clock, progress } = setup();
    clock.advance(BAR_REFRESH_MS - 1);
    assert.equal(stream.writes.length, 0, 'nothing to draw before the first update');
    progress.update(counts(50));
    clock.advance(BAR_REFRESH_MS * 3);
    assert.equal(stream.writes.length, 4);
    assert.notEqual(stream.writes[3], stream.writes[1]);
  });

  it('unrefs its timers so it never keeps the process alive', () => {
    const { clock, progress } = setup();
    progress.update(counts(1));
    progress.update(counts(2));
    assert.equal(clock.all.length, 2);
    assert.ok(clock.all.every((t) => t.unrefed));
  });
});

describe('Progress lines', () => {
  it('counts canceled jobs apart from failed ones', () => {
    const { stream, clock, progress } = setup({ isTTY: false });
    progress.update({ ...counts(120, 100, 5, 0), canceled: 15 });
    clock.advance(5000);
    assert.deepEqual(stream.writes, ['salvo: 120/300 done, 0 running, 100 ok, 5 failed, 15 canceled, 24.0/s\n']);
  });

  it('writes one summary line every 5 s by default and nothing on update', () => {
    const { stream, clock, progress } = setup({ isTTY: false });
    clock.advance(5000);
    assert.deepEqual(stream.writes, [], 'nothing to say before the first update');
    progress.update(counts(120, 110, 10, 8));
    assert.deepEqual(stream.writes, []);
    clock.advance(5000);
    assert.deepEqual(stream.writes, ['salvo: 120/300 done, 8 running, 110 ok, 10 failed, 12.0/s\n']);
    clock.advance(4999);
    assert.equal(stream.writes.length, 1);
    clock.advance(1);
    assert.equal(stream.writes.length, 2);
  });

  it('takes its interval from intervalMs', () => {
    const { stream, clock, progress } = setup({ isTTY: false, intervalMs: 1000 });
    progress.update(counts(3));
    clock.advance(3000);
    assert.equal(stream.writes.length, 3);
  });

  it('says only how many are done when the total is unknown', () => {
    const { stream, clock, progress } = setup({ isTTY: false, total: null });
    progress.update(counts(20, 20, 0, 2));
    clock.advance(5000);
    assert.deepEqual(stream.writes, ['salvo: 20 done, 2 running, 20 ok, 0 failed, 4.0/s\n']);
  });

  it('never writes terminal control sequences', () => {
    const { stream, clock, progress } = setup({ isTTY: true, env: { CI: '1' } });
    progress.update(counts(5));
    clock.advance(10_000);
    progress.log('message');
    progress.stop();
    assert.ok(stream.writes.length > 0);
    assert.ok(stream.writes.every((w) => !w.includes('\r') && !w.includes('\x1b')));
  });
});

describe('Progress.stop', () => {
  it('draws the final bar and ends its line', () => {
    const { stream, clock, progress } = setup();
    progress.update(counts(1));
    clock.advance(20);
    progress.update(counts(300, 290, 10, 0));
    progress.stop();
    const last = stream.writes.at(-1)!;
    assert.ok(last.startsWith(CLEAR) && last.endsWith('\n'));
    assert.ok(last.includes('300/300  ok 290  failed 10  running 0'));
  });

  it('writes a final plain line in lines mode', () => {
    const { stream, progress } = setup({ isTTY: false });
    progress.update(counts(300, 300, 0, 0));
    progress.stop();
    assert.deepEqual(stream.writes, ['salvo: 300/300 done, 0 running, 300 ok, 0 failed\n']);
  });

  it('does nothing the second time', () => {
    const { stream, progress } = setup();
    progress.update(counts(1));
    progress.stop();
    const written = stream.writes.length;
    progress.stop();
    assert.equal(stream.writes.length, written);
  });

  it('writes nothing when there never was an update', () => {
    for (const isTTY of [true, false]) {
      const { stream, progress } = setup({ isTTY });
      progress.stop();
      assert.deepEqual(stream.writes, []);
    }
  });

  it('cancels its timers and ignores later updates', () => {
    const { stream, clock, progress } = setup();
    progress.update(counts(1));
    progress.update(counts(2));
    progress.stop();
    assert.equal(clock.pending.size, 0);
    const written = stream.writes.length;
    progress.update(counts(3));
    clock.advance(60_000);
    assert.equal(stream.writes.length, written);
  });
});

describe('Progress.print', () => {
  it('puts a data line on its own stream while the bar steps aside on stderr and comes back', () => {
    const { stream, progress } = setup();
    const stdout = fakeStream(false);
    progress.update(counts(7));
    const bar = stream.writes[0]!.slice(CLEAR.length);
    progress.print('ok       b1-3', stdout);
    assert.deepEqual(stdout.writes, ['ok       b1-3\n']);
    assert.deepEqual(stream.writes.slice(1), [CLEAR, bar]);
  });

  it('writes only the line, to its stream, when no bar is shown', () => {
    const { stream, progress } = setup({ isTTY: false });
    const stdout = fakeStream(false);
    progress.update(counts(1));
    progress.print('ok       b1-0', stdout);
    assert.deepEqual(stdout.writes, ['ok       b1-0\n']);
    assert.deepEqual(stream.writes, []);
  });
});

describe('Progress.log', () => {
  it('clears the bar, writes the line and redraws the bar in one write', () => {
    const { stream, progress } = setup();
    progress.update(counts(7));
    const bar = stream.writes[0]!.slice(CLEAR.length);
    progress.log('job b1-3 failed: exit code 1');
    assert.equal(stream.writes.length, 2);
    assert.equal(stream.writes[1], `${CLEAR}job b1-3 failed: exit code 1\n${bar}`);
  });

  it('does not add a second newline to a line that has one', () => {
    const { stream, progress } = setup({ isTTY: false });
    progress.log('done\n');
    assert.deepEqual(stream.writes, ['done\n']);
  });

  it('writes just the line before any bar was drawn, in lines mode, and after stop', () => {
    const before = setup();
    before.progress.log('early');
    assert.deepEqual(before.stream.writes, ['early\n']);

    const lines = setup({ isTTY: false });
    lines.progress.update(counts(1));
    lines.progress.log('plain');
    assert.deepEqual(lines.stream.writes, ['plain\n']);

    const stopped = setup();
    stopped.progress.update(counts(1));
    stopped.progress.stop();
    stopped.progress.log('late');
    assert.equal(stopped.stream.writes.at(-1), 'late\n');
  });
});

describe('Progress on a closed stream', () => {
  it('never throws when writing fails', () => {
    const { stream, clock, progress } = setup();
    stream.write = () => {
      throw new Error('write EPIPE');
    };
    assert.doesNotThrow(() => {
      progress.update(counts(1));
      clock.advance(5000);
      progress.log('x');
      progress.stop();
    });
  });

  it('stops writing to a destroyed or ended stream', () => {
    for (const closed of [{ destroyed: true }, { writableEnded: true }]) {
      const { stream, clock, progress } = setup();
      Object.assign(stream, closed);
      progress.update(counts(1));
      clock.advance(5000);
      progress.log('x');
      progress.stop();
      assert.deepEqual(stream.writes, []);
    }
  });

  it('works with the real timers and stops cleanly', () => {
    const stream = fakeStream(true);
    const progress = new Progress({ stream, total: 2, env: {} });
    progress.update(counts(1));
    progress.update(counts(2));
    progress.stop();
    assert.ok(stream.writes.at(-1)!.endsWith('\n'));
  });
});

describe('formatDuration', () => {
  it('writes seconds, minutes and hours compactly', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(20.4), '20s');
    assert.equal(formatDuration(59.6), '1m00s');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(3720), '1h02m');
    assert.equal(formatDuration(-3), '0s');
  });
});
