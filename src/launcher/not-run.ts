// The result of a job that never ran (refused, canceled before its start, lost by the fleet): one
// shape for the batch and the fleet, with no pid, no exit and zero timings.
import type { JobResult, JobState, PlainError } from '../types.js';

export interface NotRunJob {
  index: number;
  id: string;
  batchId: string;
  state: JobState;
  error: PlainError | null;
  labels?: Record<string, string>;
  stdoutPath?: string | null;
  stderrPath?: string | null;
}

export function notRunResult(job: NotRunJob): JobResult {
  return {
    index: job.index,
    id: job.id,
    batchId: job.batchId,
    state: job.state,
    exitCode: null,
    signal: null,
    error: job.error,
    pid: null,
    rusage: null,
    timings: { queuedMs: 0, prepareMs: 0, runtimeMs: 0, runMs: 0, waitedMs: 0 },
    startedAt: null,
    endedAt: Date.now(),
    stdoutPath: job.stdoutPath ?? null,
    stderrPath: job.stderrPath ?? null,
    labels: job.labels ?? {},
  };
}
