// `salvo pause ID` / `salvo resume ID`: freeze and thaw every process of a container (runtime pause/resume).
import { Command } from 'commander';
import { validateId } from '../../launcher/validate.js';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';

export function pauseCommand(globals: () => GlobalOptions): Command {
  return freezeCommand('pause', 'freeze every process of a running container', globals);
}

export function resumeCommand(globals: () => GlobalOptions): Command {
  return freezeCommand('resume', 'thaw a paused container', globals);
}

function freezeCommand(verb: 'pause' | 'resume', summary: string, globals: () => GlobalOptions): Command {
  return new Command(verb)
    .summary(summary)
    .argument('<id>', 'container id')
    .addHelpText('after', `\nExamples:\n  $ salvo ${verb} job-17`)
    .action(async (id: string) => {
      validateId(id, 'container id');
      const launcher = await launcherFor(contextFrom(globals()));
      try {
        await (verb === 'pause' ? launcher.pause(id) : launcher.resume(id));
      } finally {
        await launcher.close();
      }
    });
}
