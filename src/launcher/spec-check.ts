// The two checks every spec validator uses, in a file of their own so that validate.ts and the
// validators it calls (validate-container.ts) share them without importing each other.
import { SalvoError } from '../errors.js';

export function bad(field: string, value: unknown, expected: string): SalvoError {
  const shown = JSON.stringify(value);
  return new SalvoError('ERR_INVALID_SPEC', `${field} must be ${expected}, got ${shown === undefined ? String(value) : shown}`);
}

export function stringArray(field: string, value: unknown, allowEmpty = false): string[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || value.some((v) => typeof v !== 'string')) {
    throw bad(field, value, allowEmpty ? 'an array of strings' : 'a non-empty array of strings');
  }
  if (value.some((v: string) => v.includes('\0'))) throw bad(field, value, 'free of NUL characters');
  return [...(value as string[])];
}

