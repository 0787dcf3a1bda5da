// What travels through the queue: a job's data (its salvo spec and place in its submit) and its
// result (the JobResult `salvo batch` prints, plus where and in which attempt it ran).
import { notRunResult } from '../launcher/not-run.js';
import type { JobResult, JobSpec, PlainError } from '../types.js';

/** The data of one BullMQ job: the spec as a `salvo batch` line has it, with its id filled in. */
export interface FleetJobData {
  spec: JobSpec & { id: string };
  /** The job's line in its submit (0-based), so reports keep the input order. */
  index: number;
  batchId: string;
}

/** A finished job: the batch result under the salvo job id, and the node and attempt that made it. */
export interface FleetResult extends JobResult {
  /** The worker's name (`--name`). null when no worker finished it (lost). */
  node: string | null;
  /** The attempt that made the result: 1, or more when a node was lost holding the job. */
  attempt: number;
  /** The container's id on its node: the job id, suffixed `.aN` from attempt 2 on. */
  containerId: string | null;
  /** When the job was added to the queue (epoch ms). */
  addedAt: number;
}

/** The BullMQ queue name: no ':' (BullMQ's key separator). */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * A distinct container id per attempt: an attempt re-run while the lost node's container may still
 * live (in its own cgroup of that id) must not share it, nor the later gc that removes it.
 */
export function containerIdFor(jobId: string, attempt: number): string {
  if (attempt <= 1) return jobId;
  const suffix = `.a${attempt}`;
  return `${jobId.slice(0, 128 - suffix.length)}${suffix}`;
}

/** The result of a job no worker finished: BullMQ failed it (its nodes kept being lost) or it vanished. */
export function lostResult(jobId: string, data: Partial<FleetJobData> | undefined, attempt: number, addedAt: number, error: PlainError): FleetResult {
  const labels = { ...(data?.spec?.labels ?? {}) };
  return {
    ...notRunResult({ index: data?.index ?? 0, id: jobId, batchId: data?.batchId ?? '', state: 'lost', error, labels }),
    exitCode: 255, // unknown, never 0
    node: null,
    attempt,
    containerId: null,
    addedAt,
  };
}
