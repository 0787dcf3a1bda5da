// Parse the command line, run one command, turn its outcome into an exit status.
import { CommanderError } from 'commander';
import { describeCliError } from './context.js';
import { EXIT } from './exit-codes.js';
import { buildProgram } from './program.js';

export async function runCli(argv: string[]): Promise<void> {
  // `salvo ps | head` closes our stdout early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "errors" are successes; anything else commander already printed.
      const success = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      process.exitCode = success ? EXIT.ok : EXIT.usage;
    } else {
      const { exitCode, message } = describeCliError(error);
      process.stderr.write(`salvo: ${message}\n`);
      process.exitCode = exitCode;
    }
  }
}
