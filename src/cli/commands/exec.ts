// `salvo exec ID -- CMD…`: a process in a running container, in the foreground, output streamed
// (or the user's terminal attached with -t); salvo exits with the process's exit code. It goes
// through the state directory's serving launcher; a terminal's pty master comes to this process.
import { Command } from 'commander';
import type { Proc } from '../../index.js';
import { validateId } from '../../launcher/validate.js';
import type { ProcessUser } from '../../types.js';
import { userTerminalSize } from '../attach-terminal.js';
import type { LauncherClient } from '../../server/client.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { eitherName } from '../container-flags.js';
import { collect, envFromFlags } from '../env-option.js';
import { UsageError, isStartFailure, startFailureExit } from '../exit-codes.js';
import { followProc } from '../follow.js';

interface ExecOptions {
  tty?: boolean;
  env: string[];
  envFile: string[];
  cwd?: string;
  workdir?: string;
  user?: string;
  execId?: string;
}

export function execCommand(globals: () => GlobalOptions): Command {
  return new Command('exec')
    .summary('run a command in a running container and exit with its exit code')
    .description(
      'Runs a command in a running container (runtime exec), streams its stdout and stderr (or, with -t, ' +
        'attaches your terminal), records it under the container, and exits with its exit code (128+n for a ' +
        'signal). It uses the runtime that started the container. SIGINT or SIGTERM to salvo is passed on to ' +
        "the process. It goes through the state directory's serving launcher (started if none serves it); with -t the " +
        'terminal comes straight to salvo, not through the server.\n\n' +
        "Exit status: the process's; 125 when it did not start (the runtime's error is printed); 2 when the " +
        'container is unknown or not running, or for bad usage; 3 when the state directory is held.',
    )
    .argument('<id>', 'container id')
    .argument('<command...>', 'the command to run (put it after --)')
    .option('-t, --tty', 'run with a terminal and attach yours (raw mode, resized with your window)')
    .option('-e, --env <KEY=VALUE|KEY>', "environment variable for the process; KEY alone passes the host's value (repeatable)", collect, [])
    .option('--env-file <file>', 'read KEY=VALUE lines from a file (# comments; repeatable; -e wins)', collect, [])
    .option('--cwd <dir>', 'working directory inside the container')
    .option('-w, --workdir <dir>', 'the same as --cwd')
    .option('-u, --user <uid[:gid]>', 'numeric user (and group) to run as')
    .option('--exec-id <id>', 'id of the process under its container (default exec-<n>)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  $ salvo exec job-17 -- /bin/sh -c 'cat /proc/1/status'\n" +
        '  $ salvo exec -t job-17 -- /bin/sh\n' +
        '  $ salvo exec --user 1000:1000 --env DEBUG=1 job-17 -- /bin/id',
    )
    .action(async (id: string, command: string[], options: ExecOptions) => {
      process.exitCode = await exec(id, command, options, globals());
    });
}

function parseUser(text: string): ProcessUser {
  const match = /^(\d+)(?::(\d+))?$/.exec(text);
  if (match === null) throw new UsageError(`--user takes a numeric uid[:gid], got "${text}"`);
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

async function exec(id: string, command: string[], options: ExecOptions, globals: GlobalOptions): Promise<number> {
  validateId(id, 'container id');
  const env = envFromFlags(options.env, options.envFile);
  const cwd = eitherName(options.cwd, options.workdir, '--cwd and -w/--workdir');
  const user = options.user === undefined ? undefined : parseUser(options.user);
  const context = contextFrom(globals);
  // The serving launcher (which drives the container's runtime); a terminal's pty master comes to this process.
  const launcher = await launcherFor(context);
  try {
    let proc: Proc;
    try {
      proc = await launcher.exec(id, {
        args: command,
        env: env.length > 0 ? env : undefined,
        cwd,
        user,
        terminal: options.tty === true,
        terminalSize: options.tty === true ? userTerminalSize() : undefined,
        stdio: options.tty === true ? 'log' : 'fifo',
        execId: options.execId,
      });
    } catch (error) {
      if (isStartFailure(error)) {
        process.stderr.write(`salvo: exec in container ${id} did not start: ${(error as Error).message}\n`);
        return startFailureExit(error);
      }
      throw error;
    }
    const onSignal = passSignals(launcher, proc);
    try {
      return (await followProc(proc)).exitCode;
    } finally {
      onSignal.off();
    }
  } finally {
    // The container keeps running: only the exec'd process was ours to wait for.
    await launcher.close({ containers: 'leave' });
    context.log.flush();
  }
}

/** SIGINT/SIGTERM go to the exec'd process; a second one kills it. */
function passSignals(launcher: LauncherClient, proc: Proc): { off(): void } {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    const send = received++ === 0 ? signal : 'SIGKILL';
    void launcher.kill(proc.id, send, { execId: proc.execId }).catch(() => undefined);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    off(): void {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
