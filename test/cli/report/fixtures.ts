// Hand-built JobResults for the report tests: one per state, with overrides.
import type { JobResult } from '../../../src/types.js';

export function jobResult(overrides: Partial<JobResult> & Pick<JobResult, 'index' | 'state'>): JobResult {
  return {
    id: `b1-${overrides.index}`,
    batchId: 'b1',
    exitCode: null,
    signal: null,
    error: null,
    pid: null,
    rusage: null,
    timings: { queuedMs: 1, prepareMs: 2, runtimeMs: 30, runMs: 0, waitedMs: 0 },
    startedAt: null,
    endedAt: 1_700_000_010_000,
    stdoutPath: null,
    stderrPath: null,
    labels: {},
    ...overrides,
  };
}

const RUN = { queuedMs: 1, prepareMs: 2, runtimeMs: 30, runMs: 1500, waitedMs: 0 };

/** One job in every state, in input order: index 0…6. */
export function everyState(): JobResult[] {
  return [
    jobResult({ index: 0, state: 'exited', exitCode: 0, pid: 100, timings: RUN, startedAt: 1_700_000_008_500 }),
    jobResult({ index: 1, state: 'exited', exitCode: 3, pid: 101, timings: RUN, startedAt: 1_700_000_008_500 }),
    jobResult({ index: 2, state: 'exited', exitCode: 137, signal: 'SIGKILL', pid: 102, timings: RUN, startedAt: 1_700_000_008_500 }),
    jobResult({
      index: 3,
      state: 'timedOut',
      exitCode: 143,
      signal: 'SIGTERM',
      pid: 103,
      timings: { ...RUN, runMs: 5000 },
      startedAt: 1_700_000_005_000,
    }),
    jobResult({ index: 4, state: 'failed', error: { code: 'ERR_RUNTIME_FAILED', message: 'exec: "nope": executable file not found in $PATH' } }),
    jobResult({ index: 5, state: 'lost', exitCode: 255, pid: 105, timings: RUN, startedAt: 1_700_000_008_500 }),
    jobResult({ index: 6, state: 'canceled', timings: { queuedMs: 0, prepareMs: 0, runtimeMs: 0, runMs: 0, waitedMs: 0 } }),
  ];
}
