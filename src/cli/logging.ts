// pino for the CLI: JSON lines to <stateDir>/salvo.log by default, '-' for stderr. Levels are
// decided once here; hot paths only call methods on the logger they were given.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Logger as Pino } from 'pino';
import { SalvoError } from '../errors.js';
import { makeDirectory } from '../io/make-dir.js';
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
    // The state directory is salvo's to make; a --log-file's directory is the user's to give.
    if (file === undefined) makeDirectory(dirname(path));
    else if (!toStderr && !isDirectory(dirname(path))) throw new Error(`its directory ${dirname(path)} does not exist`);
    destination = pino.destination({ dest: toStderr ? 2 : path, sync: true });
  } catch (error) {
    const what = file === undefined ? `state directory ${stateDir}` : `--log-file ${file}`;
    // Another user's state directory, a missing --log-file directory: one line, exit 3.
    throw new SalvoError('ERR_STATE_DIR', `cannot use ${what}: ${(error as Error).message}`, { cause: error });
  }
  const logger = pino({ level, base: { launcher: process.pid } }, destination);
  return { logger, toStderr, flush: () => destination.flushSync() };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
