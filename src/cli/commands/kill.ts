// `salvo kill ID [SIGNAL]`: a signal through the serving launcher (`runtime kill`), which records the exit.
import { Command } from 'commander';
import { normalizeSignal, validateId } from '../../launcher/validate.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';

export function killCommand(globals: () => GlobalOptions): Command {
  return new Command('kill')
    .summary('send a signal to a running container (default SIGTERM)')
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'signal every process of the container, not only its init')
    .addHelpText('after', '\nExamples:\n  $ salvo kill job-17\n  $ salvo kill job-17 KILL --all')
    .action(async (id: string, signal: string, options: { all?: boolean }) => {
      validateId(id, 'container id');
      const sig = normalizeSignal(signal.toUpperCase());
      const launcher = await launcherFor(contextFrom(globals()));
      try {
        await launcher.kill(id, sig, { all: options.all });
      } finally {
        await launcher.close();
      }
    });
}
