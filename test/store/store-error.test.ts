// Every store failure as a salvo code: SQLite's extended result codes and errnos mapped, the
// original kept as the cause; and a real database that is not one comes out as ERR_STORE_CORRUPT.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { storeError, storeErrorCode } from '../../src/store/store-error.js';
import { Store } from '../../src/store/store.js';

const sqliteError = (code: string): Error => Object.assign(new Error(`the ${code} message`), { code });

describe('storeErrorCode', () => {
  it('maps each kind of SQLite failure to its salvo code', () => {
    const cases: [string, string][] = [
      ['SQLITE_FULL', 'ERR_STORE_FULL'],
      ['ENOSPC', 'ERR_STORE_FULL'],
      ['EDQUOT', 'ERR_STORE_FULL'],
      ['SQLITE_IOERR', 'ERR_STORE_IO'],
      ['SQLITE_IOERR_WRITE', 'ERR_STORE_IO'],
      ['SQLITE_IOERR_SHMSIZE', 'ERR_STORE_IO'],
      ['SQLITE_BUSY', 'ERR_STORE_BUSY'],
      ['SQLITE_BUSY_SNAPSHOT', 'ERR_STORE_BUSY'],
      ['SQLITE_LOCKED', 'ERR_STORE_BUSY'],
      ['SQLITE_CORRUPT', 'ERR_STORE_CORRUPT'],
      ['SQLITE_NOTADB', 'ERR_STORE_CORRUPT'],
      ['SQLITE_READONLY', 'ERR_STORE_READONLY'],
      ['SQLITE_READONLY_DBMOVED', 'ERR_STORE_READONLY'],
      ['EROFS', 'ERR_STORE_READONLY'],
      ['SQLITE_CANTOPEN', 'ERR_STORE'],
      ['SQLITE_ERROR', 'ERR_STORE'],
    ];
    for (const [sqlite, salvo] of cases) assert.equal(storeErrorCode(sqliteError(sqlite)), salvo, sqlite);
    assert.equal(storeErrorCode(new Error('no code')), 'ERR_STORE');
    assert.equal(storeErrorCode(null), 'ERR_STORE');
  });

  it('keeps the SQLite error as the cause and its code in details, and passes a SalvoError through', () => {
    const cause = sqliteError('SQLITE_FULL');
    const error = storeError(cause, 'cannot record 3 exits');
    assert.ok(error instanceof SalvoError);
    assert.equal(error.code, 'ERR_STORE_FULL');
    assert.equal(error.message, 'cannot record 3 exits: the SQLITE_FULL message');
    assert.equal(error.cause, cause);
    assert.deepEqual(error.details, { sqliteCode: 'SQLITE_FULL' });
    const salvo = new SalvoError('ERR_ID_IN_USE', 'taken');
    assert.equal(storeError(salvo, 'x'), salvo);
  });
});

describe('Store on a file that is not a database', () => {
  it('fails to open with ERR_STORE_CORRUPT, not a raw SqliteError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'salvo-store-error-'));
    try {
      const file = join(dir, 'salvo.db');
      writeFileSync(file, 'x'.repeat(4096));
      assert.throws(
        () => Store.open(file, { pid: process.pid, pidStartTime: null, bootId: null }),
        (error: unknown) =>
          error instanceof SalvoError && error.code === 'ERR_STORE_CORRUPT' && (error.cause as { code?: string }).code === 'SQLITE_NOTADB',
      );
      assert.throws(() => Store.openReadOnly(file), { code: 'ERR_STORE_CORRUPT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
