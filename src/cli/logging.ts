// pino for the CLI: JSON lines to <stateDir>/salvo.log by default, '-' for stderr. Levels are
// decided once here; hot paths only call methods on the logger they were given.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger as Pino } from 'pino';
import { SalvoError } from '../errors.js';
import { UsageError } from './exit-codes.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface CliLogger {
  logger: Pino;
  /** True when logs go to stderr, where a progress bar would interleave with them. */
  toStderr: boolean;
  flush(): void;
}

export function checkLogLevel(level: string): void {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
}

export function createLogger(level: string, file: string | undefined, stateDir: string): CliLogger {
  checkLogLevel(level);
  // Loaded here, not at import: commands that log nothing start faster.
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  const toStderr = file === '-';
  const path = file ?? join(stateDir, 'salvo.log');
  let destination;
  try {
    if (!toStderr) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    destination = pino.destination({ dest: toStderr ? 2 : path, sync: true, mkdir: !toStderr });
  } catch (error) {
    // A state directory this user may not enter (another user's): say so, exit 3.
    throw new SalvoError('ERR_STATE_DIR', `cannot write the log file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): run as the state directory's owner, or pass --state-dir or --log-file -`, {
      cause: error,
    });
  }
  const logger = pino({ level, base: { launcher: process.pid } }, destination);
  return { logger, toStderr, flush: () => destination.flushSync() };
}
