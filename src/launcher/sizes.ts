// Sizes in specs and flags (memory, tmpfs sizes, log limits): a file of their own so that a CLI
// client checks --log-limit without loading the spec validators (and their suggestion tables).
import { bad } from './spec-check.js';

const SIZE = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A size in bytes: a number, or digits with a unit (b, k, m, g, t; docker's 512m). */
export function memoryBytes(value: unknown, field = 'memory'): number {
  const match = typeof value === 'string' ? SIZE.exec(value.trim()) : null;
  const bytes =
    typeof value === 'number'
      ? value
      : match === null
        ? Number.NaN
        : Math.floor(Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? Number.NaN));
  if (!Number.isSafeInteger(bytes) || bytes < 1024 * 1024)
    throw bad(field, value, 'a size of at least 1m: bytes, or a number with b, k, m or g (512m)');
  return bytes;
}

/** Each log stream's limit (DESIGN §4): 0 keeps everything; a size is at least 1m (the memory sizes' parser). */
export const DEFAULT_LOG_LIMIT = 16 * 1024 * 1024;

export function logLimitBytes(value: unknown): number {
  if (value === undefined) return DEFAULT_LOG_LIMIT;
  if (value === 0 || value === '0') return 0;
  return memoryBytes(value, 'logLimit');
}
