// Counting a batch's outcomes, the exit status they imply, and one human line that says them.
import type { JobResult } from '../../types.js';
import { EXIT } from '../exit-codes.js';

export interface BatchSummary {
  total: number;
  /** Exited with code 0. */
  succeeded: number;
  /** Exited with any other code (a signal included). */
  nonZero: number;
  /** Never started (state 'failed'). */
  failed: number;
  lost: number;
  canceled: number;
  timedOut: number;
  /** Exits the store could not record (ERR_EXIT_NOT_RECORDED), counted in their state too; never ok. */
  notRecorded: number;
  wallMs: number;
}

export type Outcome = Pick<JobResult, 'state' | 'exitCode'> & { error?: JobResult['error'] };

export function summarize(results: readonly Outcome[], wallMs: number): BatchSummary {
  const summary = emptySummary();
  for (const result of results) tally(summary, result);
  summary.wallMs = wallMs;
  return summary;
}

export function emptySummary(): BatchSummary {
  return { total: 0, succeeded: 0, nonZero: 0, failed: 0, lost: 0, canceled: 0, timedOut: 0, notRecorded: 0, wallMs: 0 };
}

/** Counts one outcome in: a batch keeps a running summary, not every outcome. */
export function tally(summary: BatchSummary, result: Outcome): void {
  summary.total++;
  const notRecorded = result.error?.code === 'ERR_EXIT_NOT_RECORDED';
  if (notRecorded) summary.notRecorded++;
  switch (result.state) {
    case 'exited':
      if (result.exitCode !== 0) summary.nonZero++;
      else if (!notRecorded) summary.succeeded++;
      break;
    case 'failed':
      summary.failed++;
      break;
    case 'lost':
      summary.lost++;
      break;
    case 'canceled':
      summary.canceled++;
      break;
    case 'timedOut':
      summary.timedOut++;
      break;
  }
}

/** DESIGN §9: 0 when every job exited 0 (an empty batch included), else 1. */
export function batchExitStatus(summary: BatchSummary): number {
  return summary.succeeded === summary.total ? EXIT.ok : EXIT.jobsFailed;
}

/** E.g. `300 jobs: 280 ok, 15 exit≠0, 2 failed, 1 timed out, 2 canceled in 12.3 s`. */
export function formatSummaryLine(summary: BatchSummary): string {
  const parts = [`${summary.succeeded} ok`];
  // Zero categories are noise; 'ok' stays so the line always says how many passed.
  const optional: [number, string][] = [
    [summary.nonZero, 'exit≠0'],
    [summary.failed, 'failed'],
    [summary.lost, 'lost'],
    [summary.timedOut, 'timed out'],
    [summary.canceled, 'canceled'],
    [summary.notRecorded, 'not recorded'],
  ];
  for (const [count, label] of optional) if (count > 0) parts.push(`${count} ${label}`);
  const jobs = summary.total === 1 ? 'job' : 'jobs';
  return `${summary.total} ${jobs}: ${parts.join(', ')} in ${(summary.wallMs / 1000).toFixed(1)} s`;
}
