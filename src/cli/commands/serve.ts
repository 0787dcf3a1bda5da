// `salvo serve`: the state directory's serving launcher (one per directory), in the foreground
// for systemd or detached like the one every command starts by itself; --stop ends it.
import { closeSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_IDLE_EXIT_MS } from '../../server/socket.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { parseDuration, parsePositiveInteger } from '../duration.js';

interface ServeOptions {
  foreground?: boolean;
  idleExit: string;
  readyFd?: string;
  stop?: boolean;
}

export function serveCommand(globals: () => GlobalOptions): Command {
  return new Command('serve')
    .summary("serve the state directory's launcher on a unix socket (every command uses it)")
    .description(
      'Runs one launcher for the state directory (subreaper, store, worker pool) listening on ' +
        '<state-dir>/salvo.sock (HTTP with JSON, owner-only). Every salvo command uses it, and starts one ' +
        'detached (output in <state-dir>/serve.log) when none serves the directory. It exits by itself after ' +
        '--idle-exit with no live container and no client; containers it leaves running on SIGTERM or --stop ' +
        'are adopted by the next one.',
    )
    .option('--foreground', 'serve in this process (for systemd units) instead of detaching')
    .option('--idle-exit <duration>', 'exit after this long with no live container and no client; 0 keeps serving', `${DEFAULT_IDLE_EXIT_MS / 1000}s`)
    .option('--stop', 'stop the serving launcher (running containers keep running)')
    .addOption(new Command().createOption('--ready-fd <fd>', 'write "ready" (or the error as JSON) to this fd once listening').hideHelp())
    .addHelpText('after', '\nExamples:\n  $ salvo serve --idle-exit 0 --foreground    # a systemd unit\n  $ salvo serve --stop')
    .action(async (options: ServeOptions) => {
      const context = contextFrom(globals());
      const idleExitMs = parseDuration(options.idleExit, '--idle-exit');
      if (options.stop === true) {
        const { connect } = await import('../../server/connect.js');
        const client = await connect(context.stateDir, { autoStart: false });
        await client.shutdown();
        await client.close();
        return;
      }
      if (options.foreground !== true) {
        const client = await launcherFor(context);
        process.stdout.write(`${client.info.pid} ${context.stateDir}\n`);
        await client.close();
        return;
      }
      const readyFd = options.readyFd === undefined ? null : parsePositiveInteger(options.readyFd, '--ready-fd');
      const tell = (line: string): void => {
        if (readyFd === null) return;
        writeSync(readyFd, `${line}\n`);
        closeSync(readyFd);
      };
      const { serve } = await import('../../server/server.js');
      let serving;
      try {
        serving = await serve({
          stateDir: context.stateDir,
          runtime: context.runtime,
          logger: context.log.logger,
          idleExitMs,
          onReady: () => tell('ready'),
        });
      } catch (error) {
        tell(JSON.stringify({ code: (error as { code?: string }).code, message: (error as Error).message }));
        throw error;
      }
      process.stderr.write(`salvo: serving ${context.stateDir} on ${serving.socket} (pid ${process.pid})\n`);
      const stop = (): void => void serving.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await serving.stopped;
      context.log.flush();
    });
}
