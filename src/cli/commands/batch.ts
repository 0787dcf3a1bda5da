// `salvo batch FILE|-`: JSON lines of job specs through launcher.batch, results as jobs finish,
// reports as JSON, ND-JSON and JUnit. Exit 0 when every job exited 0, 1 otherwise, 2 for bad
// usage or input, 3 when the launcher fails, 130/143 when interrupted.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import type { BatchEvent, JobResult, JobSpec } from '../../index.js';
import { BATCH_ID_PATTERN, newBatchId } from '../../launcher/batch.js';
import { LOG_LIMIT_HELP, eitherName, logLimitField } from '../container-flags.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { parseDuration, parsePositiveInteger } from '../duration.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatMs, jobWallMs } from '../format.js';
import { bundleChecker, checkJobsFile, openJobs, readJobs } from '../jobs-file.js';
import { Progress } from '../progress.js';
import { batchDocument, ndjsonLine } from '../report/json.js';
import { junitXml } from '../report/junit.js';
import { batchExitStatus, emptySummary, formatSummaryLine, tally, type BatchSummary } from '../report/summary.js';
import { createStyle, type Style } from '../style.js';

/** What `salvo batch` and `salvo submit --wait` report with: --json, --ndjson, --junit, --no-progress. */
export interface ReportCliOptions {
  json?: boolean;
  ndjson?: boolean;
  junit?: string;
  progress: boolean;
}

interface BatchCliOptions extends ReportCliOptions {
  concurrency?: string;
  maxRunning?: string;
  startsInFlight: string;
  timeout?: string;
  grace: string;
  bundle?: string;
  logLimit?: string;
  batchId?: string;
}

/** Adds the report options; `when` prefixes their help (submit: 'with --wait: '). */
export function addReportOptions(command: Command, help: { when?: string; ndjson: string }): Command {
  const when = help.when ?? '';
  return command
    .option('--json', `${when}print one JSON document with every result at the end`)
    .option('--ndjson', `${when}${help.ndjson}`)
    .option('--junit <file>', `${when}write a JUnit XML report (one testcase per job)`)
    .option('--no-progress', 'no progress bar or summary lines on stderr');
}

export function checkReportOptions(options: ReportCliOptions): void {
  if (options.json === true && options.ndjson === true) throw new UsageError('use --json or --ndjson, not both');
}

/** The end of a report: the --json document, the --ndjson summary line, the --junit file, the summary on stderr. */
export function writeReports(
  options: ReportCliOptions,
  batchId: string,
  results: readonly JobResult[],
  summary: BatchSummary,
  startedAt: number,
): void {
  if (options.json === true) process.stdout.write(`${JSON.stringify(batchDocument(batchId, results, summary), null, 2)}\n`);
  if (options.ndjson === true) process.stdout.write(ndjsonLine({ event: 'summary', batchId, ...summary }));
  if (options.junit !== undefined) writeFileSync(options.junit, junitXml(results, { batchId, startedAt, wallMs: summary.wallMs }));
  process.stderr.write(`salvo: batch ${batchId}: ${formatSummaryLine(summary)}\n`);
}

export function batchCommand(globals: () => GlobalOptions): Command {
  const command = new Command('batch')
    .summary('run JSON-lines job specs, report every result (json, ndjson, junit)')
    .description(
      'Runs the jobs of a JSON-lines file (or stdin with -), one job spec per line. ' +
        'Fields: id, bundle, args, env, cwd, stdio, labels, timeoutMs, noPivot, noNewKeyring, startMode, and ' +
        'the docker-familiar volumes, mounts, tmpfs, user, hostname, network, memory, cpus, pidsLimit, readOnly, capAdd, capDrop, stdin, logLimit; ' +
        'for example {"id":"t1","args":["/bin/sh","-c","make test"],"env":{"CI":"1"},"timeoutMs":60000}.\n\n' +
        'A file is checked whole before anything starts. Results print as jobs finish; a progress bar ' +
        'shows on stderr when it is a terminal (not under CI), else a summary line every few seconds. ' +
        'SIGINT/SIGTERM/SIGHUP stop running jobs (SIGTERM, grace, SIGKILL) and report the rest as canceled.\n\n' +
        'Exit status: 0 when every job exited 0; 1 when any did not; 2 for bad usage or input; ' +
        '3 when the launcher failed; 130 after SIGINT, 143 after SIGTERM, 129 after SIGHUP.',
    )
    .argument('<file>', 'JSON-lines job file, or - for stdin')
    .option('-c, --concurrency <n>', 'jobs running at once, starting ones included (default: no limit)')
    .option('--max-running <n>', 'the same as --concurrency (its former name)')
    .option('--starts-in-flight <n>', 'runtime starts in flight at once', '4')
    .option('--timeout <duration>', "stop each job that runs longer (a job's timeoutMs wins)")
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL when stopping a job', '10s')
    .option('--bundle <dir>', 'bundle for jobs that name none (default: the busybox bundle)')
    .option('--log-limit <size>', `for jobs that set no logLimit: ${LOG_LIMIT_HELP}`)
    .option('--batch-id <id>', 'id that groups the records (default: a new one)');
  return addReportOptions(command, { ndjson: 'print one JSON line per event as it happens' })
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ salvo batch jobs.jsonl --concurrency 8 --timeout 10m --junit report.xml\n' +
        '  $ printf \'%s\\n\' \'{"args":["/bin/true"]}\' \'{"args":["/bin/sh","-c","exit 3"]}\' | salvo batch -\n' +
        '  $ salvo batch jobs.jsonl --ndjson | jq -c \'select(.event=="finished")\'',
    )
    .action(async (file: string, options: BatchCliOptions) => {
      process.exitCode = await runBatchCommand(file, options, globals());
    });
}

async function runBatchCommand(file: string, options: BatchCliOptions, globals: GlobalOptions): Promise<number> {
  checkReportOptions(options);
  // --concurrency is what docker-compose, xargs -P and every user mean: jobs alive at once.
  const concurrency = parsePositiveInteger(options.startsInFlight, '--starts-in-flight');
  const runningLimit = eitherName(options.concurrency, options.maxRunning, '--concurrency and --max-running');
  const maxRunning = runningLimit === undefined ? undefined : parsePositiveInteger(runningLimit, '--concurrency');
  const timeoutMs = options.timeout === undefined ? 0 : parseDuration(options.timeout, '--timeout');
  const graceMs = parseDuration(options.grace, '--grace');
  const logLimit = options.logLimit === undefined ? undefined : logLimitField(options.logLimit);
  const batchId = options.batchId ?? newBatchId();
  if (!BATCH_ID_PATTERN.test(batchId)) throw new UsageError(`--batch-id "${batchId}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  if (options.bundle !== undefined) {
    if (!bundleChecker()(options.bundle)) throw new UsageError(`bundle ${options.bundle} has no config.json`);
  }
  // A file is checked whole first: a bad line 17 stops the batch before anything starts.
  const total = file === '-' ? null : await checkJobsFile(file);
  if (file === '-' && process.stdin.isTTY === true) throw new UsageError('batch - reads job specs from stdin; pipe them in');

  const context = contextFrom(globals);
  const launcher = await launcherFor(context, { requireRuntime: true });
  const style = createStyle(process.stdout);
  const progress =
    options.progress && !context.log.toStderr && !(options.ndjson === true && process.stderr.isTTY !== true)
      ? new Progress({ stream: process.stderr, total })
      : null;
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy === null) {
      stoppedBy = signal;
      progress?.log(`salvo: ${signal}: stopping running jobs, canceling the rest…`);
      controller.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal); // a closed terminal or SSH session: stop as for SIGTERM

  const keepAll = options.json === true || options.junit !== undefined;
  const results: JobResult[] = [];
  const summary = emptySummary();
  // Starting and running jobs alike: a job whose runtime is still starting is not idle.
  const alive = new Set<number>();
  const began = Date.now();
  let inputError: unknown = null;
  try {
    // Each job's configured timeout, kept while it runs, so that its line can say it.
    const timeouts = new Map<number, number>();
    const jobs = withTimeouts(readJobs(openJobs(file), { bundle: options.bundle, logLimit }), timeoutMs, timeouts);
    const onEvent = (event: BatchEvent): void => {
      if (event.type === 'starting') alive.add(event.index);
      else if (options.ndjson === true) process.stdout.write(ndjsonLine(eventLine(event)));
    };
    try {
      for await (const result of launcher.batch(jobs, {
        concurrency,
        maxRunning,
        timeoutMs,
        graceMs,
        batchId,
        signal: controller.signal,
        onAbort: file === '-' ? 'stop' : 'drain',
        onEvent,
      })) {
        alive.delete(result.index);
        tally(summary, result);
        progress?.update({
          done: summary.total,
          running: alive.size,
          ok: summary.succeeded,
          failed: summary.total - summary.succeeded - summary.canceled,
          canceled: summary.canceled,
        });
        if (keepAll) results.push(result);
        if (options.json !== true && options.ndjson !== true) {
          const line = humanLine(result, style, timeouts.get(result.index) ?? 0);
          timeouts.delete(result.index);
          // Data goes to stdout with or without a bar (docs/cli.md); the bar makes room on stderr.
          if (progress !== null) progress.print(line, process.stdout);
          else process.stdout.write(`${line}\n`);
        }
      }
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      inputError = error; // a bad line on stdin: what ran is still reported below
    }
    summary.wallMs = Date.now() - began;
    progress?.stop();
    writeReports(options, batchId, results, summary, began);
    if (inputError !== null) {
      process.stderr.write(`salvo: ${(inputError as Error).message}\n`);
      return EXIT.usage;
    }
    if (stoppedBy !== null) return stoppedBy === 'SIGINT' ? EXIT.interrupted : stoppedBy === 'SIGHUP' ? EXIT.hangup : EXIT.terminated;
    return batchExitStatus(summary);
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    await launcher.close({ containers: 'kill', graceMs: 5000 });
    context.log.flush();
  }
}

export function eventLine(event: BatchEvent): object {
  if (event.type === 'finished' && event.result !== undefined) return { event: 'finished', ...event.result };
  return { event: event.type, index: event.index, id: event.id, pid: event.pid, at: Date.now() };
}

/** Passes the jobs through, noting each one's timeout (its own or the batch's) by index. */
async function* withTimeouts(jobs: AsyncIterable<JobSpec>, batchTimeoutMs: number, into: Map<number, number>): AsyncGenerator<JobSpec> {
  let index = 0;
  for await (const job of jobs) {
    const ms = job.timeoutMs ?? batchTimeoutMs;
    if (ms > 0) into.set(index, ms);
    index++;
    yield job;
  }
}

/** `stopped after its timeout of 5s (the stop took 12ms)`: what was configured and how long stopping took. */
function timeoutText(result: JobResult, timeoutMs: number): string {
  if (timeoutMs <= 0 || result.startedAt === null) return 'stopped after its timeout';
  const took = Math.max(0, result.endedAt - (result.startedAt + timeoutMs));
  return `stopped after its timeout of ${formatMs(timeoutMs)} (the stop took ${formatMs(took)})`;
}

export function humanLine(result: JobResult, style: Style, timeoutMs = 0): string {
  const ran = result.startedAt !== null ? ` in ${formatMs(jobWallMs(result.timings))}` : '';
  if (result.error?.code === 'ERR_EXIT_NOT_RECORDED') {
    // The kernel's status, flagged: the store never got it (a full disk), so it is no success.
    const how = `exit ${result.exitCode}${result.signal === null ? '' : ` (${result.signal})`}`;
    return `${style.red('unrecorded')} ${result.id}: ${how}, not recorded in the store (${result.error.code})${style.dim(ran)}`;
  }
  switch (result.state) {
    case 'exited':
      if (result.exitCode === 0) return `${style.green('ok')}       ${result.id}${style.dim(ran)}`;
      return `${style.red('exit')}     ${result.id}: exit ${result.exitCode}${result.signal === null ? '' : ` (${result.signal})`}${style.dim(ran)}`;
    case 'timedOut':
      return `${style.red('timeout')}  ${result.id}: ${timeoutText(result, timeoutMs)}, exit ${result.exitCode}${style.dim(ran)}`;
    case 'failed':
      return `${style.red('failed')}   ${result.id}: ${result.error?.message ?? 'did not start'} (${result.error?.code ?? '?'})`;
    case 'lost':
      return `${style.yellow('lost')}     ${result.id}: exit status unknown (recorded as 255)`;
    case 'canceled':
      return `${style.yellow('canceled')} ${result.id}${result.exitCode === null ? '' : `: stopped, exit ${result.exitCode}`}`;
  }
}
