// Error codes: every code documented in docs/errors.md, and plain worker errors rebuilt faithfully.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, RuntimeError, SalvoError, errorFromPlain, isErrorCode, plainError } from '../src/errors.js';

// Compiled to <package>/dist/test/errors.test.js: the package root is two directories up.
const ERRORS_MD = new URL('../../docs/errors.md', import.meta.url);

/** Codes named by a heading (`## ERR_X`) or in the first cell of a table row (`| \`ERR_X\` | …`). */
function documentedCodes(markdown: string): string[] {
  const codes: string[] = [];
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+`?(ERR_[A-Z0-9_]+)`?\s*$/.exec(line);
    const row = /^\|\s*`?(ERR_[A-Z0-9_]+)`?\s*\|/.exec(line);
    const code = heading?.[1] ?? row?.[1];
    if (code !== undefined) codes.push(code);
  }
  return codes;
}

describe('docs/errors.md', () => {
  it('documents every code of ERROR_CODES, and no other code, each once', () => {
    const documented = documentedCodes(readFileSync(ERRORS_MD, 'utf8'));
    const known = Object.keys(ERROR_CODES);
    assert.deepEqual(
      known.filter((code) => !documented.includes(code)),
      [],
      'codes missing from docs/errors.md',
    );
    assert.deepEqual(
      documented.filter((code) => !known.includes(code)),
      [],
      'codes in docs/errors.md that src/errors.ts does not have',
    );
    assert.equal(new Set(documented).size, documented.length, 'a code is documented twice');
  });
});

describe('errorFromPlain', () => {
  it('rebuilds a runtime failure as a RuntimeError with the runtime exit code', () => {
    const error = errorFromPlain({ code: 'ERR_RUNTIME_FAILED', message: 'exec: "/nope": not found' }, 1);
    assert.ok(error instanceof RuntimeError);
    assert.ok(error instanceof SalvoError);
    assert.equal(error.code, 'ERR_RUNTIME_FAILED');
    assert.equal(error.message, 'exec: "/nope": not found');
    assert.equal(error.runtimeExitCode, 1);
    assert.equal(error.name, 'RuntimeError');
  });

  it('rebuilds every runtime code as a RuntimeError', () => {
    for (const code of ['ERR_RUNTIME_FAILED', 'ERR_RUNTIME_HUNG', 'ERR_CGROUP_HYBRID', 'ERR_CONTAINER_STOPPED']) {
      const error = errorFromPlain({ code, message: 'm' }, 2);
      assert.ok(error instanceof RuntimeError, code);
      assert.equal(error.code, code);
      assert.equal(error.runtimeExitCode, 2);
    }
  });

  it('defaults the runtime exit code to null', () => {
    assert.equal((errorFromPlain({ code: 'ERR_RUNTIME_HUNG', message: 'm' }) as RuntimeError).runtimeExitCode, null);
  });

  it('maps an unknown code to ERR_RUNTIME_FAILED and keeps the message', () => {
    const error = errorFromPlain({ code: 'EACCES', message: 'permission denied' }, 126);
    assert.ok(error instanceof RuntimeError);
    assert.equal(error.code, 'ERR_RUNTIME_FAILED');
    assert.equal(error.message, 'permission denied');
    assert.equal(error.runtimeExitCode, 126);
  });

  it('rebuilds other known codes as a plain SalvoError', () => {
    const error = errorFromPlain({ code: 'ERR_BUNDLE_INVALID', message: 'bad config' }, 1);
    assert.ok(error instanceof SalvoError);
    assert.ok(!(error instanceof RuntimeError));
    assert.equal(error.code, 'ERR_BUNDLE_INVALID');
    assert.deepEqual(error.toJSON(), { code: 'ERR_BUNDLE_INVALID', message: 'bad config' });
  });
});

describe('SalvoError', () => {
  it('keeps its code, the cause and details', () => {
    const cause = new Error('low level');
    const error = new SalvoError('ERR_STORE', 'cannot open', { cause, details: { file: '/x' } });
    assert.equal(error.name, 'SalvoError');
    assert.equal(error.cause, cause);
    assert.deepEqual(error.details, { file: '/x' });
    assert.equal(JSON.stringify(error), '{"code":"ERR_STORE","message":"cannot open"}');
  });

  it('recognises only its own codes', () => {
    assert.equal(isErrorCode('ERR_STORE'), true);
    assert.equal(isErrorCode('ENOENT'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(undefined), false);
  });
});

describe('plainError', () => {
  it('keeps a salvo code and the message', () => {
    assert.deepEqual(plainError(new SalvoError('ERR_BUNDLE_INVALID', 'no rootfs'), 'ERR_STATE_DIR', 'ctx'), {
      code: 'ERR_BUNDLE_INVALID',
      message: 'no rootfs',
    });
  });

  it('gives anything else the fallback code, with the context before its message', () => {
    const enospc = Object.assign(new Error('no space left'), { code: 'ENOSPC' });
    assert.deepEqual(plainError(enospc), { code: 'ERR_RUNTIME_FAILED', message: 'no space left' });
    assert.deepEqual(plainError(enospc, 'ERR_STATE_DIR', 'cannot prepare the process directory'), {
      code: 'ERR_STATE_DIR',
      message: 'cannot prepare the process directory: no space left',
    });
    assert.deepEqual(plainError('thrown string'), { code: 'ERR_RUNTIME_FAILED', message: 'thrown string' });
    assert.deepEqual(plainError(null), { code: 'ERR_RUNTIME_FAILED', message: 'null' });
  });
});
