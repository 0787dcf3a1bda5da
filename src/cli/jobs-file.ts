// Reading job specs from JSON lines (a file or stdin), one job per non-empty line, with errors
// that name the line. Streams: a million-line file is never held in memory.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SalvoError } from '../errors.js';
import { JOB_FIELDS, refuseUnknownFields } from '../launcher/spec-fields.js';
import { normalizeStartSpec } from '../launcher/validate.js';
import type { JobSpec } from '../types.js';
import { UsageError } from './exit-codes.js';

// A job line is data: every field of a batch job but the one that is a function.
const LINE_FIELDS: readonly string[] = JOB_FIELDS.filter((field) => field !== 'fifoHandoff');

export interface JobDefaults {
  bundle?: string;
}

/** Checks one parsed line; throws a UsageError that names the line. */
export function validateJobLine(value: unknown, line: number, bundleExists: (bundle: string) => boolean): JobSpec {
  const at = `line ${line}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${at}: a job must be a JSON object`);
  const job = value as JobSpec;
  try {
    refuseUnknownFields(value, LINE_FIELDS, 'the job');
    const { timeoutMs: _timeout, ...start } = job;
    normalizeStartSpec({ ...start, id: job.id ?? 'placeholder' });
  } catch (error) {
    if (error instanceof SalvoError) throw new UsageError(`${at}: ${error.message}`);
    throw error;
  }
  if (job.timeoutMs !== undefined && (typeof job.timeoutMs !== 'number' || !(job.timeoutMs >= 0))) {
    throw new UsageError(`${at}: timeoutMs must be a number of ms ≥ 0, got ${JSON.stringify(job.timeoutMs)}`);
  }
  if (job.bundle !== undefined && !bundleExists(job.bundle)) throw new UsageError(`${at}: bundle ${job.bundle} has no config.json`);
  return job;
}

/** A memo of bundle directories that hold a config.json. */
export function bundleChecker(): (bundle: string) => boolean {
  const known = new Map<string, boolean>();
  return (bundle) => {
    const path = resolve(bundle);
    let ok = known.get(path);
    if (ok === undefined) {
      ok = existsSync(join(path, 'config.json'));
      known.set(path, ok);
    }
    return ok;
  };
}

/**
 * Yields the validated jobs of a JSON-lines stream, defaults applied; throws UsageError at the first
 * bad line. `bundleExists` checks bundle paths (`salvo submit` skips it: they are paths on the workers).
 */
export async function* readJobs(input: Readable, defaults: JobDefaults = {}, bundleExists = bundleChecker()): AsyncGenerator<JobSpec> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`line ${line}: invalid JSON: ${(error as Error).message}`);
      }
      const job = validateJobLine(value, line, bundleExists);
      yield defaults.bundle !== undefined && job.bundle === undefined ? { ...job, bundle: defaults.bundle } : job;
    }
  } finally {
    lines.close();
  }
}

/** Opens a jobs file, or stdin for '-'. */
export function openJobs(file: string): Readable {
  if (file === '-') return process.stdin;
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new UsageError(`jobs file ${file} does not exist`);
  }
  if (!isFile) throw new UsageError(`jobs file ${file} is not a file`);
  return createReadStream(file);
}

/** Reads a whole jobs file once to check every line before anything starts; returns the job count. */
export async function checkJobsFile(file: string): Promise<number> {
  let count = 0;
  for await (const _job of readJobs(openJobs(file))) count++;
  return count;
}
