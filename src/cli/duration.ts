// Durations on the command line: plain seconds ("1.5") or with a unit (500ms, 90s, 5m, 2h, 7d).
import { UsageError } from './exit-codes.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) {
    throw new UsageError(`${option} must be a duration like 30, 1.5s, 500ms, 5m, 2h or 7d, got "${text}"`);
  }
  return Number(match[1]) * (UNITS[match[2] ?? 's'] as number);
}

export function parsePositiveInteger(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new UsageError(`${option} must be a whole number ≥ 1, got "${text}"`);
  }
  return Number(text);
}
