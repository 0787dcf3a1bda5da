// `salvo bench`: bulk container-start benchmark, salvo side by side with the bare runtime CLI.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { formatImageBench, runImageBench } from '../../bench/image-bench.js';
import { formatE2eText, runE2e } from '../../bench/e2e.js';
import { runBench } from '../../bench/macro.js';
import { formatBenchHtml } from '../../bench/report-html.js';
import { formatBenchMarkdown } from '../../bench/report-markdown.js';
import { formatBenchText } from '../../bench/report-text.js';
import { contextFrom, type GlobalOptions } from '../context.js';
import { parsePositiveInteger } from '../duration.js';
import { UsageError } from '../exit-codes.js';
import { Progress } from '../progress.js';

interface BenchCliOptions {
  count: string;
  concurrency: string;
  baseline?: boolean;
  rounds: string;
  bundle?: string;
  image?: string;
  json?: string;
  markdown?: string;
  html?: string;
  e2e?: boolean;
  progress: boolean;
}

export function benchCommand(globals: () => GlobalOptions, runtimeGiven: () => boolean): Command {
  return new Command('bench')
    .summary('benchmark bulk container starts against the bare runtime CLI')
    .description(
      'Starts --count containers of /bin/true through salvo (every exit recorded) for each runtime and ' +
        'concurrency, and, with --baseline (the default), the bare runtime CLI doing `run -d` for as many ids, ' +
        'K at a time, with no exit tracking, interleaved round by round in the same run. Reports wall time, ' +
        'starts/s, start latency p50/p95/p99, per-phase times, launcher CPU per container, peak launcher RSS, ' +
        'exits recorded and the salvo/baseline throughput ratio. Deletes are done after each timed part, on both ' +
        'sides. It uses its own state under <state-dir>/bench.',
    )
    .option('-n, --count <n>', 'containers per runtime and concurrency', '200')
    .option('-c, --concurrency <list>', 'runtime starts in flight, comma-separated (e.g. 1,2,4,8)', '1,4')
    .option('--baseline', 'run the bare-runtime baseline beside salvo (the default)')
    .option('--no-baseline', 'skip the bare-runtime baseline')
    .option('--rounds <n>', 'interleaved salvo/baseline rounds per row', '4')
    .option('--bundle <dir>', 'bundle to start (default: busybox running /bin/true)')
    .option('--image <ref>', 'instead: starts from this image against starts from the same rootfs as a bundle (one runtime, the first concurrency)')
    .option('--json <file>', "write the report as JSON ('-' for stdout)")
    .option('--markdown <file>', 'write a Markdown table (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--html <file>', 'write a self-contained HTML page with SVG charts')
    .option(
      '--e2e',
      'instead: --count short jobs started, recorded and deleted through salvo vs `xargs -P K <runtime> run` (K: the first --concurrency), and through `salvo batch` from the CLI',
    )
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      '\nThe global --runtime takes a comma-separated list here (default runc,crun).\n\nExamples:\n' +
        '  $ salvo bench --count 50\n' +
        '  $ salvo bench --runtime runc,crun --count 200 --concurrency 1,4 --json -\n' +
        '  $ salvo bench --concurrency 1,2,4,8 --markdown summary.md --html bench.html\n' +
        '  $ salvo bench --runtime crun --image oci:./alpine:3.20 --count 100 --concurrency 4\n' +
        '  $ salvo bench --e2e --count 150 --concurrency 4',
    )
    .action(async (options: BenchCliOptions) => {
      const g = globals();
      const runtimes = (runtimeGiven() ? (g.runtime ?? 'runc') : 'runc,crun')
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== '');
      if (runtimes.length === 0) throw new UsageError('--runtime names no runtime');
      const count = parsePositiveInteger(options.count, '--count');
      const rounds = Math.min(parsePositiveInteger(options.rounds, '--rounds'), count);
      const concurrencies = options.concurrency.split(',').map((k) => parsePositiveInteger(k, '--concurrency'));
      const context = contextFrom(g);
      if (options.image !== undefined) {
        const report = await runImageBench({
          runtime: runtimes[0] as string,
          image: options.image,
          count,
          concurrency: concurrencies[0] as number,
          rounds,
          stateDir: context.stateDir,
          logger: context.log.logger,
        });
        if (options.json === '-') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatImageBench(report));
        if (options.json !== undefined && options.json !== '-') writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
        process.exitCode = report.fromImage.failures + report.fromBundle.failures + report.fromBundleNoInit.failures > 0 ? 1 : 0;
        context.log.flush();
        return;
      }
      if (options.e2e === true) {
        const rows = await runE2e({ runtimes, count, concurrency: concurrencies[0] ?? 4, rounds: Math.min(rounds, 2), stateDir: context.stateDir });
        if (options.json === '-') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else process.stdout.write(formatE2eText(rows));
        if (options.json !== undefined && options.json !== '-') writeFileSync(options.json, `${JSON.stringify(rows, null, 2)}\n`);
        process.exitCode = rows.some((r) => r.salvoFailures + r.cliFailures > 0) ? 1 : 0;
        context.log.flush();
        return;
      }
      const baseline = options.baseline !== false;
      const total = runtimes.length * concurrencies.length * count * (baseline ? 2 : 1);
      const progress =
        options.progress && process.stderr.isTTY === true && !context.log.toStderr ? new Progress({ stream: process.stderr, total }) : null;
      let done = 0;
      try {
        const report = await runBench({
          runtimes,
          count,
          concurrencies,
          baseline,
          rounds,
          stateDir: context.stateDir,
          bundle: options.bundle,
          logger: context.log.logger,
          onContainer: () => progress?.update({ done: ++done, running: 0, ok: done, failed: 0 }),
        });
        progress?.stop();
        if (options.json === '-') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatBenchText(report));
        if (options.json !== undefined && options.json !== '-') writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
        if (options.markdown !== undefined) writeFileSync(options.markdown, formatBenchMarkdown(report));
        if (options.html !== undefined) writeFileSync(options.html, formatBenchHtml(report));
        const failed = report.rows.some((r) => r.salvo.failures > 0 || r.salvo.exitsRecorded !== r.salvo.count);
        if (options.json === '-') process.stderr.write(formatBenchText(report));
        process.exitCode = failed ? 1 : 0;
      } finally {
        progress?.stop();
        context.log.flush();
      }
    });
}
