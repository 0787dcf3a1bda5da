// `salvo run`: one container in the foreground, output streamed live, salvo's exit status is
// the container's (128+n for a signal). SIGINT/SIGTERM/SIGHUP stop the container first.
import { existsSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { newBatchId } from '../../launcher/batch-id.js';
import { logLimitBytes } from '../../launcher/sizes.js';
import type { Proc } from '../../index.js';
import { userTerminalSize } from '../attach-terminal.js';
import type { LauncherClient } from '../../server/client.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { parseDuration } from '../duration.js';
import { addContainerFlags, containerFields, eitherName, logLimitField, type ContainerFlags } from '../container-flags.js';
import { collect, envFromFlags } from '../env-option.js';
import { EXIT, UsageError, isStartFailure, startFailureExit } from '../exit-codes.js';
import { followProc } from '../follow.js';
import { startTimer } from '../../io/timer.js';
import { formatMs } from '../format.js';
import type { StdinSource } from '../stdin-source.js';

interface RunOptions extends ContainerFlags {
  bundle?: string;
  rootfs?: string;
  id?: string;
  name?: string;
  workdir?: string;
  envFile: string[];
  timeout?: string;
  grace: string;
  env: string[];
  cwd?: string;
  exitCodeFile?: string;
  tty?: boolean;
  interactive?: boolean;
  image?: string;
  entrypoint?: string;
  detach?: boolean;
  init?: boolean;
}

export function runCommand(globals: () => GlobalOptions): Command {
  const command = new Command('run')
    .summary('run one container in the foreground and exit with its exit code')
    .description(
      'Runs one container in the foreground with its stdout and stderr streamed live, and exits with ' +
        "the container's exit code (128+n when a signal killed it). SIGINT, SIGTERM or SIGHUP to salvo stops the " +
        'container first (SIGTERM to all its processes, SIGKILL after --grace, then delete --force). ' +
        "Without --bundle or --rootfs it runs in salvo's default busybox bundle.\n\n" +
        "Exit status: the container's; 124 when --timeout stopped it; 125 when it did not start " +
        "(the runtime's error is printed); 2 for bad usage.",
    )
    .argument('[command...]', "the command to run in the container (put it after --); with --image, replaces the image's Cmd")
    .option('--bundle <dir>', 'OCI bundle directory (holds config.json)')
    .option('--image <ref>', 'run from an image: oci:DIR[:TAG] or docker-archive:FILE[:REF] (docs/images.md)')
    .option('--entrypoint <path>', "with --image: replaces the image's Entrypoint (and drops its Cmd)")
    .option('--rootfs <dir>', 'root filesystem directory: salvo writes a bundle for it')
    .option('--id <id>', 'container id (default: run-<random>)')
    .option('--name <id>', 'the same as --id')
    .option('--timeout <duration>', 'stop the container after this long (30, 90s, 5m…)')
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL when stopping', '10s')
    .option('-e, --env <KEY=VALUE|KEY>', "environment variable for the container; KEY alone passes the host's value (repeatable)", collect, [])
    .option('--env-file <file>', 'read KEY=VALUE lines from a file (# comments; repeatable; -e wins)', collect, [])
    .option('--cwd <dir>', 'working directory inside the container')
    .option('-w, --workdir <dir>', 'the same as --cwd')
    .option('--exit-code-file <file>', "also write the container's exit code to this file (for CI runners)")
    .option('-i, --interactive', "keep stdin attached: the container reads salvo's own stdin (echo x | salvo run -i -- cat)")
    .option('-t, --tty', 'run with a terminal and attach yours (raw mode, resized with your window)')
    .option('-d, --detach', 'print the id and exit 0 once the container runs (its output goes to its logs)')
    .option('--init', "run salvo's init as pid 1 (the default, except with --bundle)")
    .option('--no-init', 'run the command itself as pid 1 of its pid namespace')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  $ salvo run -- /bin/sh -c 'echo hi; exit 7'      # prints hi, exits 7\n" +
        "  $ salvo run --timeout 5s --env MODE=ci -- /bin/sh -c 'echo $MODE'\n" +
        '  $ salvo run --exit-code-file /tmp/code -- /bin/false; cat /tmp/code\n' +
        '  $ salvo run -t -- /bin/sh                             # an interactive shell\n' +
        '  $ salvo run --image oci:./alpine:3.20 -- cat /etc/os-release\n' +
        '  $ salvo run -d --id job-17 -- /bin/sleep 600; salvo exec job-17 -- /bin/ps\n' +
        '  $ salvo run -v "$PWD:/src:ro" -w /src --network host --cap-add CHOWN -- /bin/sh -c \'ls\'\n' +
        '  $ salvo run -u nobody --memory 256m --cpus 1 --pids-limit 100 -- /bin/id',
    );
  return addContainerFlags(command).action(async (command: string[], options: RunOptions) => {
    process.exitCode = await run(command, options, globals());
  });
}

async function run(command: string[], options: RunOptions, globals: GlobalOptions): Promise<number> {
  if ([options.bundle, options.rootfs, options.image].filter((o) => o !== undefined).length > 1)
    throw new UsageError('use one of --bundle, --rootfs and --image');
  if (options.image === undefined && (options.entrypoint !== undefined || options.readOnly === true))
    throw new UsageError('--entrypoint and --read-only go with --image');
  if (options.image === undefined && command.length === 0) throw new UsageError('give the command to run after --');
  if (options.bundle !== undefined && !existsSync(options.bundle)) throw new UsageError(`bundle ${options.bundle} does not exist`);
  const env = envFromFlags(options.env, options.envFile);
  const cwd = eitherName(options.cwd, options.workdir, '--cwd and -w/--workdir');
  const name = eitherName(options.id, options.name, '--id and --name');
  const timeoutMs = options.timeout === undefined ? 0 : parseDuration(options.timeout, '--timeout');
  const graceMs = parseDuration(options.grace, '--grace');
  if (options.detach === true && (options.tty === true || options.timeout !== undefined || options.exitCodeFile !== undefined)) {
    throw new UsageError('--detach cannot be used with --tty, --timeout or --exit-code-file');
  }
  const context = contextFrom(globals);
  // The serving launcher of the state directory; a terminal's pty master comes to this process.
  const launcher = await launcherFor(context, { requireRuntime: true });
  let stdin: StdinSource | null = null;
  try {
    const bundle =
      options.rootfs !== undefined
        ? (await import('../../bundle/rootfs-bundle.js')).bundleForRootfs(launcher.stateDir, options.rootfs)
        : options.bundle;
    const id = name ?? `run-${newBatchId().slice(1)}`;
    // -i only: the stdin machinery (a socket, the addon) loads when asked for.
    stdin = options.interactive === true && options.tty !== true ? (await import('../stdin-source.js')).stdinSource() : null;
    let stopping: 'signal' | 'timeout' | null = null;
    let stopAt = 0;
    let proc: Proc | null = null;
    const stop = (why: 'signal' | 'timeout'): void => {
      if (stopping !== null) return;
      stopping = why;
      stopAt = Date.now();
      if (proc !== null) void stopContainer(launcher, proc, graceMs);
    };
    const onSignal = (): void => stop('signal');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal); // a closed terminal or SSH session: stop as for SIGTERM
    try {
      try {
        proc = await launcher.start({
          id,
          bundle,
          // A --rootfs bundle is salvo's default spec (its own pid namespace): it gets the init too.
          init: options.init ?? (options.rootfs !== undefined ? true : undefined),
          ...(options.image === undefined
            ? {}
            : { image: options.image, ...(options.entrypoint === undefined ? {} : { entrypoint: [options.entrypoint] }) }),
          args: options.image !== undefined && command.length === 0 ? undefined : command,
          env: env.length > 0 ? env : undefined,
          cwd,
          ...containerFields(options),
          terminal: options.tty === true ? true : undefined,
          terminalSize: options.tty === true ? userTerminalSize() : undefined,
          stdio: options.tty === true || options.detach === true ? 'log' : 'fifo',
          // The container opens salvo's stdin itself (a pipe, a file, a tty): no copy through salvo.
          stdin: stdin?.path,
        });
      } catch (error) {
        if (isStartFailure(error)) {
          process.stderr.write(`salvo: container ${id} did not start: ${(error as Error).message}\n`);
          const code = startFailureExit(error);
          writeExitCodeFile(options.exitCodeFile, code);
          return code;
        }
        throw error;
      }
      stdin?.started();
      if (options.detach === true) {
        process.stdout.write(`${id}\n`);
        return EXIT.ok;
      }
      // A signal that came while the runtime was starting it stops it now.
      if (stopping !== null) void stopContainer(launcher, proc, graceMs);
      const timer = timeoutMs > 0 ? startTimer(() => stop('timeout'), timeoutMs, { unref: false }) : null;
      // Once it has exited, draining its output is no reason to report a timeout.
      void proc.exited.then(() => timer?.clear());
      const exit = await followProc(proc, logLimitBytes(options.logLimit === undefined ? undefined : logLimitField(options.logLimit)));
      writeExitCodeFile(options.exitCodeFile, exit.exitCode);
      if (stopping === 'timeout') {
        const took = formatMs(exit.exitedAt - stopAt);
        process.stderr.write(
          `salvo: container ${id} ran longer than ${options.timeout} (--timeout) and was stopped in ${took} by ${exit.signal === 'SIGKILL' ? `SIGKILL after --grace ${options.grace}` : 'SIGTERM'} (exit ${exit.exitCode})\n`,
        );
        return EXIT.timedOut;
      }
      return exit.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    }
  } finally {
    stdin?.close();
    await launcher.close();
    context.log.flush();
  }
}

async function stopContainer(launcher: LauncherClient, proc: Proc, graceMs: number): Promise<void> {
  await launcher.kill(proc.id, 'SIGTERM', { all: true }).catch(() => undefined);
  const timer = startTimer(() => void launcher.kill(proc.id, 'SIGKILL', { all: true }).catch(() => undefined), graceMs, { unref: false });
  await proc.exited;
  timer.clear();
}

function writeExitCodeFile(file: string | undefined, code: number): void {
  if (file !== undefined) writeFileSync(file, `${code}\n`);
}
