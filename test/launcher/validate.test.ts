// Ids and start specs are checked before any record, directory or process exists.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { normalizeSignal, normalizeStartSpec, validateId } from '../../src/launcher/validate.js';
import type { StartSpec } from '../../src/types.js';

/** Asserts a SalvoError with this code whose message starts with the field's name. */
function refused(fn: () => unknown, code: 'ERR_INVALID_ID' | 'ERR_INVALID_SPEC', field?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SalvoError, `not a SalvoError: ${String(error)}`);
    assert.equal(error.code, code);
    if (field !== undefined) assert.ok(error.message.startsWith(`${field} `), `message does not name ${field}: ${error.message}`);
    return true;
  });
}

const spec = (extra: Partial<StartSpec>): StartSpec => ({ id: 'c1', ...extra }) as StartSpec;

describe('validateId', () => {
  it('accepts letters, digits, _ . - with a letter or digit first, up to 128 characters', () => {
    for (const id of ['a', 'Z9', '0', 'job-1.retry_2', 'a..b', `a${'x'.repeat(127)}`]) assert.equal(validateId(id), id);
  });

  it('refuses path traversal, separators and an empty id', () => {
    for (const id of ['../x', '..', '.', 'a/b', '/abs', 'a\\b', '']) refused(() => validateId(id), 'ERR_INVALID_ID', 'id');
  });

  it('refuses 129 characters and says how long the id was', () => {
    assert.throws(() => validateId('a'.repeat(129)), /129 characters, at most 128/);
  });

  it('refuses a leading dot, dash or underscore', () => {
    for (const id of ['.hidden', '-rf', '_x']) refused(() => validateId(id), 'ERR_INVALID_ID');
  });

  it('refuses NUL, whitespace, unicode and a trailing newline', () => {
    for (const id of ['a\0b', 'a b', 'café', 'ｆｕｌｌ', 'a\n']) refused(() => validateId(id), 'ERR_INVALID_ID');
  });

  it('refuses a value that is not a string', () => {
    for (const id of [undefined, null, 7, ['a']]) refused(() => validateId(id), 'ERR_INVALID_ID');
  });

  it('names what it checks in the message', () => {
    refused(() => validateId('a/b', 'exec id'), 'ERR_INVALID_ID', 'exec id');
  });
});

describe('normalizeStartSpec', () => {
  it('fills the defaults and has no override when the process is not changed', () => {
    assert.deepEqual(normalizeStartSpec({ id: 'c1' }), {
      id: 'c1',
      bundle: null,
      override: null,
      stdio: 'log',
      startMode: 'run',
      noPivot: false,
      noNewKeyring: false,
      stdin: null,
      fifoHandoff: null,
      consoleSocket: null,
      labels: null,
      signal: null,
      batchId: null,
      checkpoint: null,
      image: null,
      init: null,
      hostPid: false,
      logLimit: 16 * 1024 * 1024,
    });
  });

  it('takes an image with its entrypoint and readOnly, refuses them with a bundle and an entrypoint without an image', () => {
    assert.deepEqual(normalizeStartSpec(spec({ image: 'oci:/i:v1', entrypoint: ['/bin/echo'], readOnly: true })).image, {
      ref: 'oci:/i:v1',
      entrypoint: ['/bin/echo'],
      readOnly: true,
    });
    refused(() => normalizeStartSpec(spec({ image: 'oci:/i', bundle: '/b' })), 'ERR_INVALID_SPEC', 'bundle');
    refused(() => normalizeStartSpec(spec({ entrypoint: ['/bin/echo'] })), 'ERR_INVALID_SPEC', 'entrypoint');
    refused(() => normalizeStartSpec(spec({ image: '' })), 'ERR_INVALID_SPEC', 'image');
    // Without an image, readOnly is the derived config's root.readonly.
    assert.equal(normalizeStartSpec(spec({ readOnly: true })).override?.container?.readOnly, true);
    assert.equal(normalizeStartSpec(spec({ image: 'oci:/i', readOnly: true })).override?.container, undefined);
  });

  it('refuses a bad container id with ERR_INVALID_ID', () => {
    refused(() => normalizeStartSpec(spec({ id: '../etc' })), 'ERR_INVALID_ID', 'container id');
  });

  it('refuses a spec that is not an object', () => {
    refused(() => normalizeStartSpec(null as unknown as StartSpec), 'ERR_INVALID_SPEC', 'spec');
  });

  it('resolves a relative bundle to an absolute path and refuses an empty one', () => {
    assert.equal(normalizeStartSpec(spec({ bundle: 'bundles/b' })).bundle, resolve('bundles/b'));
    refused(() => normalizeStartSpec(spec({ bundle: '' })), 'ERR_INVALID_SPEC', 'bundle');
  });

  it('turns env given as an object into KEY=value entries', () => {
    const { override } = normalizeStartSpec(spec({ env: { A: '1', EMPTY: '', WITH_EQ: 'x=y' } }));
    assert.deepEqual(override, { env: ['A=1', 'EMPTY=', 'WITH_EQ=x=y'] });
  });

  it('keeps env given as a list of KEY=value, including an empty list', () => {
    assert.deepEqual(normalizeStartSpec(spec({ env: ['A=1', 'B='] })).override, { env: ['A=1', 'B='] });
    assert.deepEqual(normalizeStartSpec(spec({ env: [] })).override, { env: [] });
  });

  it('refuses list entries without a key and =', () => {
    for (const entry of ['NOEQUALS', '=value', '']) refused(() => normalizeStartSpec(spec({ env: ['A=1', entry] })), 'ERR_INVALID_SPEC', 'env');
  });

  it('refuses object env values that are not strings, naming the key', () => {
    refused(() => normalizeStartSpec(spec({ env: { PORT: 80 } as unknown as Record<string, string> })), 'ERR_INVALID_SPEC', 'env.PORT');
  });

  it('refuses object env keys that are empty or hold =', () => {
    refused(() => normalizeStartSpec(spec({ env: { '': 'x' } })), 'ERR_INVALID_SPEC', 'env');
    refused(() => normalizeStartSpec(spec({ env: { 'A=B': 'x' } })), 'ERR_INVALID_SPEC', 'env');
  });

  it('refuses a NUL character in env given as a list', () => {
    refused(() => normalizeStartSpec(spec({ env: ['A=x\0y'] })), 'ERR_INVALID_SPEC', 'env');
  });

  it('refuses a NUL character in env given as an object, as it does for a list', () => {
    refused(() => normalizeStartSpec(spec({ env: { A: 'x\0y' } })), 'ERR_INVALID_SPEC', 'env.A');
  });

  it('refuses env that is neither an object nor a list', () => {
    refused(() => normalizeStartSpec(spec({ env: 'A=1' as unknown as string[] })), 'ERR_INVALID_SPEC', 'env');
    refused(() => normalizeStartSpec(spec({ env: ['A=1', 2] as unknown as string[] })), 'ERR_INVALID_SPEC', 'env');
  });

  it('copies args and requires a non-empty array of strings', () => {
    const args = ['/bin/sh', '-c', ''];
    const { override } = normalizeStartSpec(spec({ args }));
    assert.deepEqual(override, { args: ['/bin/sh', '-c', ''] });
    assert.notEqual(override?.args, args);
    for (const bad of [[], 'sh', ['sh', 1], [null]]) {
      refused(() => normalizeStartSpec(spec({ args: bad as string[] })), 'ERR_INVALID_SPEC', 'args');
    }
  });

  it('refuses args holding a NUL character', () => {
    refused(() => normalizeStartSpec(spec({ args: ['/bin/echo', 'a\0b'] })), 'ERR_INVALID_SPEC', 'args');
  });

  it('requires an absolute cwd', () => {
    assert.deepEqual(normalizeStartSpec(spec({ cwd: '/srv' })).override, { cwd: '/srv' });
    for (const cwd of ['srv', './srv', '', 5]) refused(() => normalizeStartSpec(spec({ cwd: cwd as string })), 'ERR_INVALID_SPEC', 'cwd');
  });

  it('requires terminal to be a boolean', () => {
    assert.deepEqual(normalizeStartSpec(spec({ terminal: false })).override, { terminal: false });
    refused(() => normalizeStartSpec(spec({ terminal: 'yes' as unknown as boolean })), 'ERR_INVALID_SPEC', 'terminal');
  });

  it('accepts the three stdio modes and refuses others', () => {
    for (const stdio of ['null', 'log', 'fifo'] as const) assert.equal(normalizeStartSpec(spec({ stdio })).stdio, stdio);
    for (const stdio of ['pipe', 'inherit', '']) {
      refused(() => normalizeStartSpec(spec({ stdio: stdio as 'log' })), 'ERR_INVALID_SPEC', 'stdio');
    }
  });

  it('accepts the two start modes and refuses others', () => {
    assert.equal(normalizeStartSpec(spec({ startMode: 'create-start' })).startMode, 'create-start');
    assert.equal(normalizeStartSpec(spec({ startMode: 'run' })).startMode, 'run');
    refused(() => normalizeStartSpec(spec({ startMode: 'two-phase' as 'run' })), 'ERR_INVALID_SPEC', 'startMode');
  });

  it('copies labels and requires an object of strings', () => {
    const labels = { team: 'a', tier: '' };
    const normalized = normalizeStartSpec(spec({ labels }));
    assert.deepEqual(normalized.labels, labels);
    assert.notEqual(normalized.labels, labels);
    for (const bad of [null, ['a'], 'team=a']) {
      refused(() => normalizeStartSpec(spec({ labels: bad as unknown as Record<string, string> })), 'ERR_INVALID_SPEC', 'labels');
    }
    refused(() => normalizeStartSpec(spec({ labels: { n: 1 } as unknown as Record<string, string> })), 'ERR_INVALID_SPEC', 'labels.n');
  });

  it('keeps an AbortSignal and a batch id, and refuses other types for them', () => {
    const controller = new AbortController();
    const normalized = normalizeStartSpec(spec({ signal: controller.signal, batchId: 'b1', noPivot: true, noNewKeyring: true }));
    assert.equal(normalized.signal, controller.signal);
    assert.equal(normalized.batchId, 'b1');
    assert.equal(normalized.noPivot, true);
    assert.equal(normalized.noNewKeyring, true);
    refused(() => normalizeStartSpec(spec({ signal: {} as AbortSignal })), 'ERR_INVALID_SPEC', 'signal');
    refused(() => normalizeStartSpec(spec({ batchId: 3 as unknown as string })), 'ERR_INVALID_SPEC', 'batchId');
  });

  it('shows the bad value in the message', () => {
    assert.throws(() => normalizeStartSpec(spec({ cwd: 'rel/dir' })), /cwd must be an absolute path, got "rel\/dir"/);
  });
});

describe('normalizeSignal', () => {
  it('passes numbers and digit strings through as numbers, and gives names their SIG prefix', () => {
    assert.equal(normalizeSignal(9), '9');
    assert.equal(normalizeSignal('9'), '9');
    assert.equal(normalizeSignal('15'), '15');
    assert.equal(normalizeSignal('KILL'), 'SIGKILL');
    assert.equal(normalizeSignal('SIGTERM'), 'SIGTERM');
    assert.equal(normalizeSignal('RTMIN+1'), 'SIGRTMIN+1');
  });

  it('refuses what is neither a signal name nor a number with ERR_INVALID_SPEC', () => {
    for (const bad of [0, 65, 1.5, '', 'kill me', 'SIG TERM', 'NOPE', 'SIGFLG']) {
      assert.throws(() => normalizeSignal(bad), { code: 'ERR_INVALID_SPEC', message: /signal must be a name like SIGTERM or a number/ });
    }
  });
});
