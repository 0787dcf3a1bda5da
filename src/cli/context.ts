// What every command shares: the global options, the logger, and opening a launcher with the
// CLI's error mapping (usage problems exit 2, launcher failures exit 3).
import { Launcher, RecordReader, SalvoError, defaultStateDir } from '../index.js';
import type { LauncherOptions, ProcessRecord } from '../index.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import { EXIT, USAGE_ERROR_CODES, UsageError } from './exit-codes.js';
import { createLogger, type CliLogger } from './logging.js';

export interface GlobalOptions {
  stateDir?: string;
  runtime?: string;
  logLevel: string;
  logFile?: string;
}

export interface CliContext {
  stateDir: string;
  runtime: string;
  log: CliLogger;
}

export function contextFrom(globals: GlobalOptions): CliContext {
  const stateDir = globals.stateDir ?? defaultStateDir();
  return {
    stateDir,
    runtime: globals.runtime ?? 'runc',
    log: createLogger(globals.logLevel, globals.logFile, stateDir),
  };
}

export async function openLauncher(context: CliContext, options: LauncherOptions = {}): Promise<Launcher> {
  return Launcher.open({ stateDir: context.stateDir, runtime: context.runtime, logger: context.log.logger, ...options });
}

/** The records for reading only, beside a launcher that may be running; null when none ever ran. */
export function readStore(context: CliContext): RecordReader | null {
  return RecordReader.open(context.stateDir);
}

/**
 * `fn` of a recorded process (the init unless `execId` says otherwise), read from the store
 * opened read-only; ERR_NOT_FOUND naming the state directory when there is no such record.
 */
export function withRecord<T>(context: CliContext, id: string, execId: string, fn: (record: ProcessRecord, store: RecordReader) => T): T {
  const store = readStore(context);
  try {
    const record = store?.get(id, execId);
    if (store === null || record === undefined) {
      throw new SalvoError('ERR_NOT_FOUND', `no container ${id}${execId === INIT_EXEC_ID ? '' : ` exec ${execId}`} in ${context.stateDir}`);
    }
    return fn(record, store);
  } finally {
    store?.close();
  }
}

/** The exit status and one-line message for an error that ends a command. */
export function describeCliError(error: unknown): { exitCode: number; message: string } {
  if (error instanceof UsageError) return { exitCode: error.exitCode, message: error.message };
  if (error instanceof SalvoError) {
    return { exitCode: USAGE_ERROR_CODES.has(error.code) ? EXIT.usage : EXIT.launcher, message: `${error.message} (${error.code})` };
  }
  return { exitCode: EXIT.launcher, message: error instanceof Error ? error.message : String(error) };
}
