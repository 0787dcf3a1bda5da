// `salvo stop ID`: SIGTERM to every process of a container, SIGKILL after --grace, until it has ended.
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { parseDuration } from '../duration.js';

export function stopCommand(globals: () => GlobalOptions): Command {
  return new Command('stop')
    .summary('stop a running container: SIGTERM, then SIGKILL after the grace period')
    .argument('<id>', 'container id')
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL', '10s')
    .addHelpText('after', '\nExamples:\n  $ salvo stop job-17\n  $ salvo stop --grace 2s job-17')
    .action(async (id: string, options: { grace: string }) => {
      validateId(id, 'container id');
      const graceMs = parseDuration(options.grace, '--grace');
      const launcher = await launcherFor(contextFrom(globals()));
      try {
        const exited = launcher.wait(id);
        await launcher.kill(id, 'SIGTERM', { all: true });
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
        if (await Promise.race([exited.then(() => false), graceOver])) await launcher.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
        clearTimeout(timer);
        await exited;
      } finally {
        await launcher.close();
      }
    });
}
