// `salvo submit FILE|-`: add job specs to a fleet's queue; with --wait, follow them to the end and
// report as `salvo batch` does (same reports, same exit status). bullmq loads only when it runs.
import { Command } from 'commander';
import type { FleetResult } from '../../fleet/index.js';
import type { JobSpec } from '../../types.js';
import { BATCH_ID_PATTERN } from '../../launcher/batch.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { openJobs, readJobs } from '../jobs-file.js';
import { Progress } from '../progress.js';
import { ndjsonLine } from '../report/json.js';
import { batchExitStatus, emptySummary, tally } from '../report/summary.js';
import { createStyle } from '../style.js';
import { addReportOptions, checkReportOptions, humanLine, writeReports, type ReportCliOptions } from './batch.js';
import { queueOption, redisOption } from './worker.js';

interface SubmitCliOptions extends ReportCliOptions {
  redis: string;
  queue: string;
  wait?: boolean;
  bundle?: string;
  batchId?: string;
}

export function submitCommand(): Command {
  const command = new Command('submit')
    .summary("add JSON-lines job specs to a fleet's queue; --wait reports them as batch does")
    .description(
      'Adds the jobs of a JSON-lines file (salvo batch job specs, checked whole first; bundles are paths on the ' +
        'workers) to a BullMQ queue, each under its id as the BullMQ job id: a job id added twice is one job. ' +
        'Jobs without an id get <batch-id>-<index>.\n\n' +
        'With --wait, follows the jobs to the end and prints what salvo batch prints (lines, --json, --ndjson, ' +
        '--junit) and exits as it does: 0 when every job exited 0; 1 when any did not; 2 for bad usage or input; ' +
        '3 when Redis failed; 130 after SIGINT (the jobs stay queued).',
    )
    .argument('<file>', 'JSON-lines job file, or - for stdin')
    .addOption(redisOption())
    .addOption(queueOption())
    .option('--wait', 'follow the jobs to the end and report them')
    .option('--bundle <dir>', 'bundle (a path on the workers) for jobs that name none')
    .option('--batch-id <id>', 'names jobs without an id and groups the results (default: a new one)');
  return addReportOptions(command, { when: 'with --wait: ', ndjson: 'print one JSON line per result as it comes' })
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ salvo submit jobs.jsonl --redis redis://127.0.0.1:6379 --queue ci\n' +
        '  $ salvo submit jobs.jsonl --redis redis://127.0.0.1:6379 --queue ci --wait --junit report.xml',
    )
    .action(async (file: string, options: SubmitCliOptions) => {
      process.exitCode = await runSubmitCommand(file, options);
    });
}

async function runSubmitCommand(file: string, options: SubmitCliOptions): Promise<number> {
  checkReportOptions(options);
  if ((options.json === true || options.ndjson === true || options.junit !== undefined) && options.wait !== true) {
    throw new UsageError('--json, --ndjson and --junit report results: add --wait');
  }
  if (options.batchId !== undefined && !BATCH_ID_PATTERN.test(options.batchId)) {
    throw new UsageError(`--batch-id "${options.batchId}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
  if (file === '-' && process.stdin.isTTY === true) throw new UsageError('submit - reads job specs from stdin; pipe them in');
  // Checked whole before anything is added; bundle paths are the workers' to check.
  const jobs: JobSpec[] = [];
  for await (const job of readJobs(openJobs(file), { bundle: options.bundle }, () => true)) jobs.push(job);
  const { submit, results, redactRedisUrl, redisOptions } = await import('../../fleet/index.js');
  const { queueJobIdProblem } = await import('../../fleet/submit.js');
  jobs.forEach((job, index) => {
    const problem = job.id === undefined ? null : queueJobIdProblem(job.id);
    if (problem !== null) throw new UsageError(`job ${index + 1}: ${problem}`);
  });
  redisOptions(options.redis);
  const queue = { redis: options.redis, queue: options.queue };
  const submitted = await submit(jobs, { ...queue, batchId: options.batchId });
  const already = submitted.existing.length > 0 ? ` (${submitted.existing.length} already there, not added again)` : '';
  process.stderr.write(
    `salvo: submitted ${submitted.ids.length} jobs to queue ${options.queue} on ${redactRedisUrl(options.redis)}, batch ${submitted.batchId}${already}\n`,
  );
  if (options.wait !== true) return EXIT.ok;

  const style = createStyle(process.stdout);
  const progress =
    options.progress && !(options.ndjson === true && process.stderr.isTTY !== true)
      ? new Progress({ stream: process.stderr, total: submitted.ids.length })
      : null;
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    progress?.log('salvo: SIGINT: no longer following; the jobs stay in the queue');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  const keepAll = options.json === true || options.junit !== undefined;
  const all: FleetResult[] = [];
  const summary = emptySummary();
  const active = new Set<string>();
  const began = Date.now();
  try {
    for await (const result of results(submitted.ids, { ...queue, signal: controller.signal, onActive: (id) => active.add(id) })) {
      active.delete(result.id);
      tally(summary, result);
      progress?.update({ done: summary.total, running: active.size, ok: summary.succeeded, failed: summary.total - summary.succeeded });
      if (keepAll) all.push(result);
      if (options.ndjson === true) process.stdout.write(ndjsonLine({ event: 'finished', ...result }));
      else if (options.json !== true) {
        const line = `${humanLine(result, style)}${result.node === null ? '' : style.dim(` [${result.node}${result.attempt > 1 ? `, attempt ${result.attempt}` : ''}]`)}`;
        if (progress !== null) progress.log(line);
        else process.stdout.write(`${line}\n`);
      }
    }
    summary.wallMs = Date.now() - began;
    progress?.stop();
    writeReports(options, submitted.batchId, all, summary, began);
    if (interrupted) return EXIT.interrupted;
    return batchExitStatus(summary);
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
  }
}
