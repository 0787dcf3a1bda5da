// The salvo command line (commander 14): global options on every command, one file per command.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { GlobalOptions } from './context.js';
import { dockerHint } from './docker-hints.js';
import { LOG_LEVELS } from './logging.js';
import { batchCommand } from './commands/batch.js';
import { benchCommand } from './commands/bench.js';
import { execCommand } from './commands/exec.js';
import { gcCommand } from './commands/gc.js';
import { imagesCommand } from './commands/images.js';
import { inspectCommand } from './commands/inspect.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { psCommand } from './commands/ps.js';
import { runCommand } from './commands/run.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('salvo');
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  program
    .description(
      'Launch OCI containers in bulk through runc or crun, with no per-container shim, and record every ' +
        'exit exactly once. Data goes to stdout; messages and progress to stderr.',
    )
    .version(pkg.version, '-V, --version')
    .addOption(
      new Option('--state-dir <dir>', 'state directory: store, process directories, runtime state (default /run/salvo as root, else $XDG_RUNTIME_DIR/salvo)').env(
        'SALVO_STATE_DIR',
      ),
    )
    .addOption(new Option('--runtime <runtime>', 'runc, crun, or a path to a runc-compatible binary').env('SALVO_RUNTIME').default('runc'))
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(new Option('--log-file <file>', "log file (JSON lines), '-' for stderr (default <state-dir>/salvo.log)"))
    .showSuggestionAfterError(true)
    .configureOutput({
      // One clear line for usage errors, no stack trace; the exit status is set in main.
      outputError: (text, write) => write(`salvo: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  $ salvo run -- /bin/sh -c 'echo hi; exit 7'\n" +
        '  $ salvo batch jobs.jsonl --concurrency 8 --junit report.xml\n' +
        '  $ salvo exec job-17 -- /bin/sh -c \'ps\'\n' +
        '  $ salvo ps\n' +
        '\nDocs: docs/cli.md, docs/api.md, docs/errors.md',
    );
  // bench takes a list of runtimes and defaults to both: it must know whether --runtime was given.
  const runtimeGiven = (): boolean => program.getOptionValueSource('runtime') !== 'default';
  const makers = [runCommand, execCommand, batchCommand, (g: () => GlobalOptions) => benchCommand(g, runtimeGiven), psCommand, inspectCommand, logsCommand, killCommand, gcCommand, imagesCommand];
  for (const make of makers) {
    const command = make(globals);
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(`salvo ${command.name()}: ${text.replace(/^error: /, '')}${dockerHint(text)}`),
    });
    program.addCommand(command);
  }
  return program;
}
