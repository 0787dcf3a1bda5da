// The `--json` document of a batch and the `--ndjson` line of one event.
import type { JobResult } from '../../types.js';
import type { BatchSummary } from './summary.js';

export interface BatchDocument {
  batchId: string;
  summary: BatchSummary;
  /** In input order, whatever order the jobs finished in. */
  jobs: JobResult[];
}

export function batchDocument(batchId: string, results: readonly JobResult[], summary: BatchSummary): BatchDocument {
  return { batchId, summary, jobs: [...results].sort((a, b) => a.index - b.index) };
}

/** One event as one line; JSON.stringify escapes newlines inside strings, so it stays one line. */
export function ndjsonLine(event: object): string {
  return `${JSON.stringify(event)}\n`;
}
