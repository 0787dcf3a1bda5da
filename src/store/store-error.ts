// Every failure of the store as a salvo code: better-sqlite3 throws SqliteErrors whose `code` is
// SQLite's extended result code (SQLITE_FULL, SQLITE_IOERR_WRITE…); a caller sees the salvo code,
// the SQLite one stays as the cause and in details.sqliteCode.
import { SalvoError, type ErrorCode } from '../errors.js';

/** The salvo code for a store failure, from SQLite's (extended) result code or a system errno. */
export function storeErrorCode(cause: unknown): ErrorCode {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'ERR_STORE';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'ERR_STORE_FULL';
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'ERR_STORE_IO';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'ERR_STORE_BUSY';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'ERR_STORE_CORRUPT';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'EROFS') return 'ERR_STORE_READONLY';
  return 'ERR_STORE';
}

/** `cause` as a SalvoError saying what the store could not do; a SalvoError passes through as it is. */
export function storeError(cause: unknown, what: string): SalvoError {
  if (cause instanceof SalvoError) return cause;
  const sqliteCode = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SalvoError(storeErrorCode(cause), `${what}: ${message}`, {
    cause,
    details: typeof sqliteCode === 'string' ? { sqliteCode } : {},
  });
}

/** Runs one store operation; whatever it throws comes out as a SalvoError (storeError). */
export function guarded<T>(what: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw storeError(error, what);
  }
}
