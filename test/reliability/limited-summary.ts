// What the resource-limit children (limited-batch.ts, limited-exec.ts) share: a logger that shows
// warnings on stderr, and the one JSON summary line they print when done.
import type { Launcher, Logger } from '../../src/index.js';
import { runtimeContainers } from '../helpers.js';

export interface LimitedBatchSummary {
  nofileLimit: number;
  /** With `fds`: the fds the open launcher used, and how many were left free for the batch. */
  fdsInUse: number | null;
  fdsFree: number | null;
  pidsMax: number | null;
  results: number;
  exitedRight: number;
  notRight: string[];
  waitedJobs: number;
  waitedMsTotal: number;
  waitedMsMax: number;
  leftInRuntime: number;
}

// Warnings go to stderr: the test shows them when a job did not exit right.
const say =
  (level: string) =>
  (obj: object, msg?: string): void =>
    void process.stderr.write(`${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
export const stderrLogger: Logger = { debug: () => undefined, info: () => undefined, warn: say('warn'), error: say('error') };

export function newSummary(limits: Pick<LimitedBatchSummary, 'nofileLimit' | 'fdsInUse' | 'fdsFree' | 'pidsMax'>): LimitedBatchSummary {
  return { ...limits, results: 0, exitedRight: 0, notRight: [], waitedJobs: 0, waitedMsTotal: 0, waitedMsMax: 0, leftInRuntime: 0 };
}

/** Counts one result: `wrong` is null when it exited right, else what to show. */
export function countResult(summary: LimitedBatchSummary, wrong: string | null, waitedMs: number): void {
  summary.results++;
  if (wrong === null) summary.exitedRight++;
  else summary.notRight.push(wrong);
  if (waitedMs > 0) summary.waitedJobs++;
  summary.waitedMsTotal += waitedMs;
  summary.waitedMsMax = Math.max(summary.waitedMsMax, waitedMs);
}

/** Closes the launcher, counts what it left in the runtime and prints the summary line. */
export async function closeAndReport(launcher: Launcher, summary: LimitedBatchSummary): Promise<void> {
  await launcher.close();
  summary.leftInRuntime = runtimeContainers(launcher).length;
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
