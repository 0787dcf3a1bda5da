// Reading a runtime's JSON log: the last error line is the failure's message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHybridCgroupRefusal, lastErrorMessage, mentionsResourceExhaustion, tail } from '../../src/runtime/log.js';

// Lines as runc 1.1 (logrus) and crun 1.8 write them.
const RUNC_INFO = '{"level":"info","msg":"starting container","time":"2026-11-28T18:07:37Z"}';
const RUNC_WARN = '{"level":"warning","msg":"a warning","time":"2026-11-28T18:07:37Z"}';
const runcError = (msg: string) => JSON.stringify({ level: 'error', msg, time: '2026-11-28T18:07:37Z' });
const crunError = (msg: string) => `{"msg": ${JSON.stringify(msg)}, "level": "error", "time": "2026-11-28T18:07:37.618558Z"}`;

describe('lastErrorMessage', () => {
  it('returns the last of several error lines', () => {
    const log = [runcError('first'), RUNC_INFO, runcError('second'), RUNC_INFO, runcError('third'), ''].join('\n');
    assert.equal(lastErrorMessage(log), 'third');
  });

  it('ignores info and warning lines after the last error', () => {
    const log = [runcError('the cause'), RUNC_INFO, RUNC_WARN].join('\n');
    assert.equal(lastErrorMessage(log), 'the cause');
  });

  it('returns null when there are only info and warning lines', () => {
    assert.equal(lastErrorMessage([RUNC_INFO, RUNC_WARN].join('\n')), null);
  });

  it('returns null for an empty or blank log', () => {
    assert.equal(lastErrorMessage(''), null);
    assert.equal(lastErrorMessage('\n\n  \n'), null);
  });

  it('skips malformed lines, even ones that mention "level"', () => {
    const log = [runcError('real error'), '{"level":"error","msg":"trunc', 'not json at all', '{"level": }'].join('\n');
    assert.equal(lastErrorMessage(log), 'real error');
  });

  it('skips error lines whose msg is not a string, and JSON that is not an object', () => {
    const log = [runcError('usable'), '{"level":"error","msg":42}', '"level"', '["level","error"]'].join('\n');
    assert.equal(lastErrorMessage(log), 'usable');
  });

  it('reads a runc-style line', () => {
    const line = '{"level":"error","msg":"container does not exist","time":"2026-11-28T18:07:37Z"}';
    assert.equal(lastErrorMessage(`${line}\n`), 'container does not exist');
  });

  it('reads a crun-style line with msg first and spaces after the colons', () => {
    const msg = 'error opening file `/run/crun/nosuch/status`: No such file or directory';
    assert.equal(lastErrorMessage(`${crunError(msg)}\n`), msg);
  });

  it('treats level fatal as an error', () => {
    const log = [runcError('earlier'), '{"level":"fatal","msg":"fatal one"}'].join('\n');
    assert.equal(lastErrorMessage(log), 'fatal one');
  });

  it('reads a last line that has no trailing newline, and CRLF line ends', () => {
    assert.equal(lastErrorMessage(`${RUNC_INFO}\n${runcError('no newline')}`), 'no newline');
    assert.equal(lastErrorMessage(`${runcError('crlf')}\r\n${RUNC_INFO}\r\n`), 'crlf');
  });

  it('reads an error on the very first line of a longer log', () => {
    assert.equal(lastErrorMessage(`${runcError('line one')}\n${RUNC_INFO}\n${RUNC_INFO}\n`), 'line one');
  });

  it('trims the message', () => {
    assert.equal(lastErrorMessage(runcError('  padded \n')), 'padded');
  });
});

describe('tail', () => {
  it('joins the last three non-empty lines, trimmed, with " | "', () => {
    assert.equal(tail('one\n two \n\nthree\nfour\n\n'), 'two | three | four');
  });

  it('keeps as many lines as asked', () => {
    assert.equal(tail('a\nb\nc', 1), 'c');
    assert.equal(tail('a\nb\nc', 5), 'a | b | c');
  });

  it('returns an empty string for blank output', () => {
    assert.equal(tail(''), '');
    assert.equal(tail('\n \n'), '');
  });

  it('keeps the end of an over-long result', () => {
    const text = `${'x'.repeat(50)}END`;
    assert.equal(tail(text, 3, 10), 'xxxxxxxEND');
  });
});

describe('isHybridCgroupRefusal', () => {
  it('recognises crun 1.8 refusing a hybrid cgroup host', () => {
    const msg = 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2';
    assert.equal(isHybridCgroupRefusal(msg), true);
    assert.equal(isHybridCgroupRefusal(lastErrorMessage(crunError(msg)) ?? ''), true);
  });

  it('does not match other errors', () => {
    assert.equal(isHybridCgroupRefusal('container does not exist'), false);
    assert.equal(isHybridCgroupRefusal(''), false);
  });
});

describe('mentionsResourceExhaustion', () => {
  it('recognizes how runc, crun and Go say they could not fork or open', () => {
    for (const text of [
      runcError(
        'runc run failed: unable to start container process: unable to start init: fork/exec /proc/self/exe: resource temporarily unavailable',
      ),
      '{"level":"fatal","msg":"nsexec-1[18339]: unable to spawn stage-2: Resource temporarily unavailable"}',
      crunError('detach process: Resource temporarily unavailable'),
      'runtime: failed to create new OS thread (have 7 already; errno=11)',
      'open /proc/self/fd: too many open files',
    ]) {
      assert.equal(mentionsResourceExhaustion(text), true, text);
    }
  });

  it('does not mistake an ordinary failure for a shortage', () => {
    for (const text of [
      runcError('runc run failed: unable to start container process: exec: "/no/such": stat /no/such: no such file or directory'),
      crunError('make `/no/such/rootfs` private: No such file or directory'),
      '',
    ]) {
      assert.equal(mentionsResourceExhaustion(text), false, text);
    }
  });
});
