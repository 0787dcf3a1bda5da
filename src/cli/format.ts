// Small human formatting helpers shared by the CLI commands.
import type { ProcessRecord } from '../types.js';

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  // Round the whole first: rounding the remainder alone printed 119.6 s as 1m60s.
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

export function formatAgo(at: number | null, now = Date.now()): string {
  return at === null ? '-' : `${formatMs(Math.max(0, now - at))} ago`;
}

/** `0`, `137 (SIGKILL)`, or `-` while it runs. */
export function formatExit(record: Pick<ProcessRecord, 'exitCode' | 'signal' | 'state' | 'errorCode'>): string {
  if (record.state === 'failed') return record.errorCode ?? 'failed';
  if (record.exitCode === null) return '-';
  return record.signal === null ? String(record.exitCode) : `${record.exitCode} (${record.signal})`;
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** A job's wall time: from its start call (prepare, the runtime's start) to its exit, not only its run. */
export function jobWallMs(timings: { prepareMs: number; runtimeMs: number; runMs: number }): number {
  return timings.prepareMs + timings.runtimeMs + timings.runMs;
}

/** A record's wall time: from the start call (its subscription) to its exit, or to now while it runs. */
export function recordWallMs(record: { subscribedAt: number; startedAt: number | null; exitedAt: number | null }, now: number): number | null {
  return record.startedAt === null ? null : (record.exitedAt ?? now) - record.subscribedAt;
}
