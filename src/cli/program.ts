// The salvo command line (commander 14): global options on every command, one file per command.
import { Command, Option } from 'commander';
import type { GlobalOptions } from './context.js';
import { dockerHint } from './docker-hints.js';
import { LOG_LEVELS } from './logging.js';
import { salvoVersion } from './version.js';

type CommandMaker = (globals: () => GlobalOptions, runtimeGiven: () => boolean) => Command;

// Each command's module loads only when that command runs (or for help): `salvo ps` must not pay
// for the launcher, the store and the worker pool.
const COMMANDS: Record<string, () => Promise<CommandMaker>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  exec: async () => (await import('./commands/exec.js')).execCommand,
  batch: async () => (await import('./commands/batch.js')).batchCommand,
  bench: async () => {
    const { benchCommand } = await import('./commands/bench.js');
    return (g, runtimeGiven) => benchCommand(g, runtimeGiven);
  },
  ps: async () => (await import('./commands/ps.js')).psCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspectCommand,
  logs: async () => (await import('./commands/logs.js')).logsCommand,
  kill: async () => (await import('./commands/kill.js')).killCommand,
  stop: async () => (await import('./commands/stop.js')).stopCommand,
  wait: async () => (await import('./commands/wait.js')).waitCommand,
  pause: async () => (await import('./commands/pause.js')).pauseCommand,
  resume: async () => (await import('./commands/pause.js')).resumeCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  gc: async () => (await import('./commands/gc.js')).gcCommand,
  images: async () => (await import('./commands/images.js')).imagesCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  submit: async () => (await import('./commands/submit.js')).submitCommand,
  fleet: async () => (await import('./commands/fleet.js')).fleetCommand,
};

/** The program with the command `argv` names (every command when it names none, for help). */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('salvo');
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  program
    .description(
      'Launch OCI containers in bulk through runc or crun, with no per-container shim, and record every ' +
        'exit exactly once. Data goes to stdout; messages and progress to stderr.',
    )
    .version(salvoVersion(), '-V, --version')
    .addOption(
      new Option(
        '--state-dir <dir>',
        'state directory: store, process directories, runtime state (default /run/salvo as root, else $XDG_RUNTIME_DIR/salvo)',
      ).env('SALVO_STATE_DIR'),
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
        "  $ salvo exec job-17 -- /bin/sh -c 'ps'\n" +
        '  $ salvo ps\n' +
        '\nDocs: docs/cli.md, docs/api.md, docs/errors.md',
    );
  // bench takes a list of runtimes and defaults to both: it must know whether --runtime was given.
  const runtimeGiven = (): boolean => program.getOptionValueSource('runtime') !== 'default';
  const named = argv.slice(2).find((arg) => Object.hasOwn(COMMANDS, arg));
  const versionOnly = named === undefined && (argv.includes('-V') || argv.includes('--version'));
  const names = named !== undefined ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
  const makers = await Promise.all(names.map((name) => (COMMANDS[name] as () => Promise<CommandMaker>)()));
  for (const make of makers) {
    const command = make(globals, runtimeGiven);
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(`salvo ${command.name()}: ${text.replace(/^error: /, '')}${dockerHint(text)}`),
    });
    program.addCommand(command);
  }
  return program;
}
