// The `--junit FILE` report: one testsuite per batch, one testcase per job, logs as system-out/err.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { cutMarkerOf } from '../../io/log-tail.js';
import type { JobResult } from '../../types.js';
import { jobWallMs } from '../format.js';

/** How much of a failing job's logs goes into the report: the end is where the failure usually is. */
export const JUNIT_TAIL_BYTES = 64 * 1024;
/** A passing job keeps a short tail only (65 jobs made a 891 KB report). */
export const JUNIT_PASS_TAIL_BYTES = 2 * 1024;
/** Lines of stderr that go into a <failure> or <error> text, after the reason. */
export const JUNIT_FAILURE_LINES = 20;

export interface JunitOptions {
  batchId: string;
  /** Default `salvo.<batchId>`. */
  suiteName?: string;
  /** Reads the last maxBytes of a log; default {@link readTailSync}. */
  readTail?: (path: string, maxBytes: number) => string;
  /** Bytes of each log of a job that did not pass. Default 64 KiB. */
  tailBytes?: number;
  /** Bytes of each log of a passing job. Default 2 KiB. */
  passTailBytes?: number;
  /** When the batch began (epoch ms); default derived from the jobs' timings. */
  startedAt?: number;
  /** The batch's wall time; default derived from the jobs' timings. */
  wallMs?: number;
}

/** The last maxBytes of a file as UTF-8, '' when it does not exist. */
export function readTailSync(path: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, size - length + read);
      if (n === 0) break;
      read += n;
    }
    // Cutting mid-character would leave a U+FFFD at the start; skip UTF-8 continuation bytes.
    let start = 0;
    while (start < read && start < 3 && (buffer[start]! & 0xc0) === 0x80) start++;
    return buffer.toString('utf8', start, read);
  } finally {
    closeSync(fd);
  }
}

export function junitXml(results: readonly JobResult[], options: JunitOptions): string {
  const jobs = [...results].sort((a, b) => a.index - b.index);
  const readTail = options.readTail ?? readTailSync;
  const tailBytes = options.tailBytes ?? JUNIT_TAIL_BYTES;
  const passTailBytes = options.passTailBytes ?? JUNIT_PASS_TAIL_BYTES;
  const outcomes = jobs.map(outcomeOf);
  const counts = {
    tests: jobs.length,
    failures: outcomes.filter((o) => o?.kind === 'failure').length,
    errors: outcomes.filter((o) => o?.kind === 'error').length,
    skipped: outcomes.filter((o) => o?.kind === 'skipped').length,
  };
  const { startedAt, wallMs } = batchSpan(jobs, options);
  const countAttrs = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(wallMs)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="salvo" ${countAttrs}>`,
    `  <testsuite name="${attr(options.suiteName ?? `salvo.${options.batchId}`)}" ${countAttrs} timestamp="${timestamp(startedAt)}">`,
  ];
  jobs.forEach((job, i) => {
    const head = `    <testcase name="${attr(job.id)}" classname="${attr(`salvo.${options.batchId}`)}" time="${seconds(jobWallMs(job.timings))}"`;
    const body: string[] = [];
    const outcome = outcomes[i] ?? null;
    const limit = outcome === null ? passTailBytes : tailBytes;
    const out = job.stdoutPath === null ? '' : logTail(readTail, job.stdoutPath, limit);
    const err = job.stderrPath === null ? '' : logTail(readTail, job.stderrPath, limit);
    if (outcome !== null) body.push(`      ${outcomeElement(outcome, err)}`);
    if (out !== '') body.push(`      <system-out>${text(out)}</system-out>`);
    if (err !== '') body.push(`      <system-err>${text(err)}</system-err>`);
    if (body.length === 0) lines.push(`${head}/>`);
    else lines.push(`${head}>`, ...body, '    </testcase>');
  });
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

interface Outcome {
  kind: 'failure' | 'error' | 'skipped';
  type: string | null;
  message: string;
}

/** null for a pass. */
function outcomeOf(job: JobResult): Outcome | null {
  switch (job.state) {
    case 'exited':
      if (job.exitCode === 0) return null;
      return job.signal === null
        ? { kind: 'failure', type: 'exit', message: exitText(job) }
        : { kind: 'failure', type: 'signal', message: exitText(job) };
    case 'timedOut': {
      const how = job.signal !== null || job.exitCode !== null ? `; ${exitText(job)}` : '';
      return { kind: 'failure', type: 'timeout', message: `timed out after ${(job.timings.runMs / 1000).toFixed(1)} s${how}` };
    }
    case 'failed':
      return {
        kind: 'error',
        type: job.error?.code ?? 'ERR_UNKNOWN',
        message: job.error?.message ?? 'the container did not start',
      };
    case 'lost':
      return { kind: 'error', type: 'lost', message: `exit status unknown (lost), recorded as ${job.exitCode ?? 255}` };
    case 'canceled':
      return { kind: 'skipped', type: null, message: 'canceled' };
  }
}

function exitText(job: JobResult): string {
  const code = job.exitCode === null ? 'exit code unknown' : `exit code ${job.exitCode}`;
  return job.signal === null ? code : `killed by ${job.signal} (${code})`;
}

/** A failure or error says why in its text too (many CI servers show only that), then the end of stderr. */
function outcomeElement(outcome: Outcome, stderr: string): string {
  const type = outcome.type === null ? '' : ` type="${attr(outcome.type)}"`;
  if (outcome.kind === 'skipped') return `<${outcome.kind} message="${attr(outcome.message)}"${type}/>`;
  const lines = stderr === '' ? [] : stderr.replace(/\n$/, '').split('\n');
  const last = lines.slice(-JUNIT_FAILURE_LINES);
  const said = last.length === 0 ? '' : `\n\nlast ${last.length === 1 ? 'line' : `${last.length} lines`} of stderr:\n${last.join('\n')}`;
  return `<${outcome.kind} message="${attr(outcome.message)}"${type}>${text(`${outcome.message}${said}`)}</${outcome.kind}>`;
}

/**
 * The last `limit` bytes of a log, from a line boundary on; a cut log says so first (one byte more
 * is read to know whether there was anything before).
 */
function logTail(readTail: (path: string, maxBytes: number) => string, path: string, limit: number): string {
  const tail = readTail(path, limit + 1);
  if (Buffer.byteLength(tail) <= limit) return tail;
  const newline = tail.indexOf('\n');
  const kept = newline < 0 || newline === tail.length - 1 ? tail.slice(-limit) : tail.slice(newline + 1);
  // A log the job's logLimit already cut says so on its first line: that line is kept too.
  return `${cutMarkerOf(path) ?? ''}[salvo: the start of this log was cut; the whole log is ${path}]\n${kept}`;
}

function batchSpan(jobs: readonly JobResult[], options: JunitOptions): { startedAt: number; wallMs: number } {
  // A job began its whole life (queue, prepare, runtime, run) that long before it ended.
  const begins = jobs.map((j) => j.endedAt - (j.timings.queuedMs + j.timings.prepareMs + j.timings.runtimeMs + j.timings.runMs));
  const ends = jobs.map((j) => j.endedAt);
  const startedAt = options.startedAt ?? (begins.length > 0 ? Math.min(...begins) : Date.now());
  const wallMs = options.wallMs ?? (ends.length > 0 ? Math.max(0, Math.max(...ends) - startedAt) : 0);
  return { startedAt, wallMs };
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The JUnit XSD's timestamp has no zone; it is UTC here. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

// Terminal colour codes in logs would leave '[31m' litter once their ESC is removed below.
// eslint-disable-next-line no-control-regex -- ESC is the character being matched
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]/g;
// Everything outside XML 1.0's Char production (a lone surrogate included, thanks to the u flag).
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(value: string): string {
  return value.replace(ANSI_SEQUENCE, '').replace(NOT_XML_CHAR, '');
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

/** Attribute values: parsers would turn literal tabs and newlines into spaces, so reference them. */
function attr(value: string): string {
  return clean(value).replace(/[&<>"'\r\n\t]/g, (c) => ESCAPES[c]!);
}

/** Text content: a literal CR would be read back as LF, so reference it; '>' covers ']]>'. */
function text(value: string): string {
  return clean(value).replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}
