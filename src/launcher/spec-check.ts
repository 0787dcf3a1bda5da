// The checks every spec validator uses, in a file of their own so that validate.ts and the
// validators it calls (validate-container.ts) share them without importing each other.
import { SalvoError } from '../errors.js';

export function bad(field: string, value: unknown, expected: string): SalvoError {
  return new SalvoError('ERR_INVALID_SPEC', `${field} must be ${expected}, got ${showValue(value)}`);
}

/** A value as an error message shows it: JSON, except numbers (JSON says null for NaN and Infinity). */
export function showValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  return JSON.stringify(value) ?? String(value);
}

export function stringArray(field: string, value: unknown, allowEmpty = false): string[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || value.some((v) => typeof v !== 'string')) {
    throw bad(field, value, allowEmpty ? 'an array of strings' : 'a non-empty array of strings');
  }
  if (value.some((v: string) => v.includes('\0'))) throw bad(field, value, 'free of NUL characters');
  refuseOverlong(field, value as string[]);
  return [...(value as string[])];
}

/** Linux's MAX_ARG_STRLEN (32 pages): execve refuses a longer argument or KEY=value entry (E2BIG). */
export const MAX_ARG_STRLEN = 131_072;

/** Refused up front: else the container starts and its exec fails, recorded `exited 1`. */
export function refuseOverlong(field: string, entries: readonly string[]): void {
  entries.forEach((entry, i) => {
    const bytes = Buffer.byteLength(entry);
    if (bytes >= MAX_ARG_STRLEN) {
      throw new SalvoError(
        'ERR_INVALID_SPEC',
        `${field}[${i}] (${JSON.stringify(entry.slice(0, 20))}…) is ${bytes} bytes: Linux refuses an argument or environment entry of ${MAX_ARG_STRLEN} bytes or more (MAX_ARG_STRLEN)`,
      );
    }
  });
}
