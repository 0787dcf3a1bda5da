// Waiting out a shortage of fds or processes: retries with backoff, a bounded patience, and the
// wait counted; any other error passes through at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { backoffMs, isExhaustion, patienceFor, patiently, waitBeforeRetry } from '../../src/io/exhaustion.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: test`), { code });

describe('patiently', () => {
  it('retries while the action fails with EMFILE, ENFILE or EAGAIN, and counts the wait', async () => {
    const failures = [errno('EMFILE'), errno('ENFILE'), errno('EAGAIN')];
    let calls = 0;
    const patience = patienceFor(10_000);
    const value = await patiently(
      'test',
      () => {
        calls++;
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return 42;
      },
      patience,
    );
    assert.equal(value, 42);
    assert.equal(calls, 4);
    assert.ok(patience.waitedMs > 0, 'the wait is counted');
  });

  it('passes any other error through at once', async () => {
    let calls = 0;
    await assert.rejects(
      patiently(
        'test',
        () => {
          calls++;
          throw errno('ENOSPC');
        },
        patienceFor(10_000),
      ),
      { code: 'ENOSPC' },
    );
    assert.equal(calls, 1);
  });

  it('gives up with ERR_RESOURCE_EXHAUSTED naming what and how long once the patience is used up', async () => {
    const began = Date.now();
    await assert.rejects(
      patiently(
        'opening the thing',
        () => {
          throw errno('EMFILE');
        },
        patienceFor(200),
      ),
      (error: unknown) => {
        assert.ok(error instanceof SalvoError);
        assert.equal(error.code, 'ERR_RESOURCE_EXHAUSTED');
        assert.match(error.message, /^opening the thing: still EMFILE after waiting \d+ ms/);
        assert.equal((error.cause as NodeJS.ErrnoException).code, 'EMFILE');
        return true;
      },
    );
    assert.ok(Date.now() - began >= 150, 'it waited about its patience');
  });

  it('runs the first try synchronously', () => {
    let ran = false;
    void patiently(
      'test',
      () => {
        ran = true;
      },
      patienceFor(0),
    );
    assert.equal(ran, true);
  });
});

describe('backoff', () => {
  it('doubles from about 2 ms to at most 250 ms, with jitter of up to half', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = Math.min(250, 2 * 2 ** attempt);
      const ms = backoffMs(attempt);
      assert.ok(ms >= base / 2 && ms <= base, `attempt ${attempt}: ${ms}`);
    }
  });

  it('refuses to wait once the patience is over', async () => {
    assert.equal(await waitBeforeRetry({ until: Date.now() - 1, waitedMs: 0 }, 0), false);
    const patience = patienceFor(0);
    assert.equal(patience.until, Infinity, '0 means no limit');
    assert.equal(await waitBeforeRetry(patience, 0), true);
  });

  it('knows the codes of a shortage', () => {
    assert.equal(isExhaustion(errno('EMFILE')), true);
    assert.equal(isExhaustion(errno('EAGAIN')), true);
    assert.equal(isExhaustion(errno('ENOENT')), false);
    assert.equal(isExhaustion(null), false);
  });
});
