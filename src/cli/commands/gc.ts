// `salvo gc`: deletes finished containers' runtime state and process directories, prunes records.
import { Command } from 'commander';
import { contextFrom, launcherFor, type GlobalOptions } from '../context.js';
import { parseDuration } from '../duration.js';

export function gcCommand(globals: () => GlobalOptions): Command {
  return new Command('gc')
    .summary("delete finished containers' runtime state, process directories and records")
    .description(
      'Deletes what finished containers leave behind: their runtime state (`runtime delete --force`), their process directories and their records, when they ended longer ago than --older-than. Never touches a running container. Goes through the serving launcher, so records left running by a launcher that died are resolved first.',
    )
    .option('--older-than <duration>', 'only what ended longer ago than this (e.g. 1h, 7d)', '0')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ salvo gc\n  $ salvo gc --older-than 7d')
    .action(async (options: { olderThan: string; json?: boolean }) => {
      const olderThanMs = parseDuration(options.olderThan, '--older-than');
      const context = contextFrom(globals());
      const launcher = await launcherFor(context);
      try {
        const result = await launcher.gc({ olderThanMs });
        if (options.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
        else {
          process.stdout.write(
            `deleted ${result.containersDeleted.length} containers, removed ${result.directoriesRemoved} process directories, pruned ${result.recordsPruned} records\n`,
          );
          for (const f of result.failed) process.stderr.write(`salvo: gc: could not delete ${f.id} (kept for a later gc): ${f.message}\n`);
        }
      } finally {
        await launcher.close();
        context.log.flush();
      }
    });
}
