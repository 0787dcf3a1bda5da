// Colours only for a terminal, never under NO_COLOR, and on demand with FORCE_COLOR.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStyle } from '../../src/cli/style.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };
const RED = '\x1b[31m';

describe('createStyle', () => {
  it('colours text for a terminal when NO_COLOR is unset', () => {
    const style = createStyle(tty, {});
    assert.equal(style.enabled, true);
    assert.equal(style.red('x'), `${RED}x\x1b[39m`);
    for (const paint of [style.green, style.yellow, style.dim, style.bold]) {
      const out = paint('x');
      assert.notEqual(out, 'x');
      assert.ok(out.startsWith('\x1b[') && out.includes('x'));
    }
  });

  it('colours a terminal stream even when process.stdout is not one', () => {
    // Under the test runner stdout is a pipe; styleText must not judge that stream instead.
    assert.ok(createStyle(tty, {}).green('ok').includes('\x1b[32m'));
  });

  it('returns text unchanged for a stream that is not a terminal', () => {
    const style = createStyle(pipe, {});
    assert.equal(style.enabled, false);
    for (const paint of [style.green, style.red, style.yellow, style.dim, style.bold]) assert.equal(paint('x'), 'x');
  });

  it('treats a stream without isTTY as not a terminal', () => {
    assert.equal(createStyle({} as { isTTY: boolean }, {}).enabled, false);
  });

  it('turns colours off under NO_COLOR whatever its value, even an empty one', () => {
    for (const value of ['1', 'true', '0', '']) {
      const style = createStyle(tty, { NO_COLOR: value });
      assert.equal(style.enabled, false, `NO_COLOR=${JSON.stringify(value)}`);
      assert.equal(style.red('x'), 'x');
    }
  });

  it('forces colours on with FORCE_COLOR, even for a pipe', () => {
    for (const value of ['1', '2', '3', 'true', '']) {
      const style = createStyle(pipe, { FORCE_COLOR: value });
      assert.equal(style.enabled, true, `FORCE_COLOR=${JSON.stringify(value)}`);
      assert.ok(style.red('x').startsWith(RED));
    }
  });

  it('turns colours off with FORCE_COLOR=0 or false, even for a terminal', () => {
    assert.equal(createStyle(tty, { FORCE_COLOR: '0' }).enabled, false);
    assert.equal(createStyle(tty, { FORCE_COLOR: 'false' }).enabled, false);
  });

  it('lets NO_COLOR win over FORCE_COLOR', () => {
    assert.equal(createStyle(tty, { NO_COLOR: '1', FORCE_COLOR: '1' }).enabled, false);
  });
});
