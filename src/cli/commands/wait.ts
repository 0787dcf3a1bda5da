// `salvo wait ID`: waits until a container (or exec'd process) has ended and exits with its code.
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';

export function waitCommand(globals: () => GlobalOptions): Command {
  return new Command('wait')
    .summary('wait for a container to end and exit with its exit code')
    .description(
      "Waits until the container's exit is recorded (at once when it has ended) and exits with its code: 128+n for a signal, 255 when it was lost.",
    )
    .argument('<id>', 'container id')
    .option('--exec <execId>', "an exec'd process instead of the init", 'init')
    .addHelpText('after', "\nExamples:\n  $ salvo run -d --id job-17 -- /bin/sh -c 'exit 3'; salvo wait job-17; echo $?   # 3")
    .action(async (id: string, options: { exec: string }) => {
      validateId(id, 'container id');
      const launcher = await launcherFor(contextFrom(globals()));
      try {
        process.exitCode = (await launcher.wait(id, options.exec)).exitCode;
      } finally {
        await launcher.close();
      }
    });
}
