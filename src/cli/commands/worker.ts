// `salvo worker`: this machine as a node of a fleet (docs/fleet.md). bullmq loads only when it runs.
import { Command, Option } from 'commander';
import type { FleetResult } from '../../fleet/index.js';
import { contextFrom, openLauncher, type GlobalOptions } from '../context.js';
import { parseDuration, parsePositiveInteger } from '../duration.js';
import { EXIT } from '../exit-codes.js';
import { ndjsonLine } from '../report/json.js';
import { createStyle } from '../style.js';
import { humanLine } from './batch.js';

interface WorkerCliOptions {
  redis: string;
  queue: string;
  concurrency: string;
  startConcurrency?: string;
  name?: string;
  timeout?: string;
  grace: string;
  shutdownGrace: string;
  lockDuration: string;
  stalledInterval: string;
  maxStalledCount: string;
  ndjson?: boolean;
}

export function redisOption(): Option {
  return new Option('--redis <url>', 'Redis URL: redis://[user:password@]host[:port][/db], rediss:// for TLS')
    .env('SALVO_REDIS_URL')
    .makeOptionMandatory();
}

export function queueOption(): Option {
  return new Option('--queue <name>', 'BullMQ queue name').env('SALVO_QUEUE').makeOptionMandatory();
}

export function workerCommand(globals: () => GlobalOptions): Command {
  return new Command('worker')
    .summary("run the jobs of a BullMQ queue on Redis through this machine's launcher")
    .description(
      'Takes jobs (salvo batch job specs, added by salvo submit) from a BullMQ queue and runs them through the local ' +
        "launcher (--state-dir, --runtime). Each job completes with the result salvo batch prints, plus this node's " +
        'name and the attempt; a job that fails (exit ≠ 0, failed start, timeout) is a result, not a retry. A job whose ' +
        'node is lost is run again by another node (docs/fleet.md).\n\n' +
        'SIGTERM or SIGINT: take no more jobs, let running ones finish for --shutdown-grace, then stop them and hand ' +
        'them back to the queue. A second SIGINT stops them now. Exit status 0 after such a stop, 3 when the launcher ' +
        'or the queue failed.',
    )
    .addOption(redisOption())
    .addOption(queueOption())
    .option('-c, --concurrency <n>', 'jobs run at once', '4')
    .option('--start-concurrency <n>', 'runtime starts in flight at once (default: min(concurrency, 4))')
    .option('--name <name>', 'node name in results and fleet status (default <hostname>-<pid>)')
    .option('--timeout <duration>', "stop each job that runs longer (a job's timeoutMs wins)")
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL when stopping a job', '10s')
    .option('--shutdown-grace <duration>', 'on SIGTERM, how long running jobs may finish before they are handed back', '30s')
    .option('--lock-duration <duration>', 'BullMQ job lock: a node silent this long is taken as lost', '30s')
    .option('--stalled-interval <duration>', 'how often to look for jobs of lost nodes', '15s')
    .option('--max-stalled-count <n>', 'times a job may lose its node before it is failed (reported lost)', '2')
    .option('--ndjson', 'print each result as a JSON line (else one human line)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ salvo worker --redis redis://127.0.0.1:6379 --queue ci --concurrency 8\n' +
        '  $ SALVO_REDIS_URL=rediss://:secret@redis.example:6380/2 salvo --state-dir /run/salvo-ci worker --queue ci',
    )
    .action(async (options: WorkerCliOptions) => {
      process.exitCode = await runWorkerCommand(options, globals());
    });
}

async function runWorkerCommand(options: WorkerCliOptions, globals: GlobalOptions): Promise<number> {
  const concurrency = parsePositiveInteger(options.concurrency, '--concurrency');
  const startConcurrency = options.startConcurrency === undefined ? undefined : parsePositiveInteger(options.startConcurrency, '--start-concurrency');
  const settings = {
    timeoutMs: options.timeout === undefined ? 0 : parseDuration(options.timeout, '--timeout'),
    graceMs: parseDuration(options.grace, '--grace'),
    lockDurationMs: parseDuration(options.lockDuration, '--lock-duration'),
    stalledIntervalMs: parseDuration(options.stalledInterval, '--stalled-interval'),
    maxStalledCount: parsePositiveInteger(options.maxStalledCount, '--max-stalled-count'),
  };
  const shutdownGraceMs = parseDuration(options.shutdownGrace, '--shutdown-grace');
  const { runWorker, redactRedisUrl, redisOptions } = await import('../../fleet/index.js');
  redisOptions(options.redis); // a bad URL is a usage error before anything opens
  const context = contextFrom(globals);
  const launcher = await openLauncher(context, { tasksPerWorker: Math.max(4, Math.min(concurrency, startConcurrency ?? 4) * 2 + 2) });
  const style = createStyle(process.stdout);
  const print = (result: FleetResult): void => {
    if (options.ndjson === true) process.stdout.write(ndjsonLine({ event: 'finished', ...result }));
    else process.stdout.write(`${humanLine(result, style)}${result.attempt > 1 ? style.dim(` (attempt ${result.attempt})`) : ''}\n`);
  };
  let handle: Awaited<ReturnType<typeof runWorker>>;
  try {
    handle = await runWorker({
      redis: options.redis,
      queue: options.queue,
      launcher,
      concurrency,
      startConcurrency,
      name: options.name,
      logger: context.log.logger,
      onResult: print,
      ...settings,
    });
  } catch (error) {
    await launcher.close({ containers: 'kill', graceMs: 5000 });
    throw error;
  }
  process.stderr.write(
    `salvo worker ${handle.name}: queue ${options.queue} on ${redactRedisUrl(options.redis)}, concurrency ${concurrency}, state ${context.stateDir}\n`,
  );
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`salvo worker: ${signal}: taking no more jobs; running ones have ${options.shutdownGrace} to finish\n`);
      void handle.close({ graceMs: shutdownGraceMs }).catch(() => undefined);
    } else if (signal === 'SIGINT') {
      process.stderr.write('salvo worker: SIGINT again: stopping running jobs now and handing them back\n');
      void handle.kill().catch(() => undefined);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await handle.closed;
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`salvo worker: ${(error as Error).message}\n`);
    return EXIT.launcher;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await launcher.close({ containers: 'kill', graceMs: 5000 });
    context.log.flush();
  }
}
