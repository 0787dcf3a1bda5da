// What every command shares: the global options, the logger, and opening a launcher with the
// CLI's error mapping (usage problems exit 2, launcher failures exit 3).
import { accessSync, constants } from 'node:fs';
import { SalvoError } from '../errors.js';
import type { Launcher, LauncherOptions, ProcessRecord } from '../index.js';
import { defaultStateDir } from '../launcher/state-dir.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { ListFilter, RecordReader } from '../store/records.js';
import type { LauncherClient } from '../server/client.js';
import { parseDuration } from './duration.js';
import { EXIT, USAGE_ERROR_CODES, UsageError } from './exit-codes.js';
import { checkLogLevel, createLogger, type CliLogger } from './logging.js';

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
  globals: GlobalOptions;
}

export function contextFrom(globals: GlobalOptions): CliContext {
  const stateDir = globals.stateDir ?? defaultStateDir();
  checkLogLevel(globals.logLevel);
  // The logger (pino, a file) is made on first use: a command that only talks to the serving
  // launcher logs nothing itself, and flushing a logger never made is nothing.
  let made: CliLogger | null = null;
  const make = (): CliLogger => (made ??= createLogger(globals.logLevel, globals.logFile, stateDir));
  const log: CliLogger = {
    get logger() {
      return make().logger;
    },
    toStderr: globals.logFile === '-',
    flush: () => made?.flush(),
  };
  return { stateDir, runtime: globals.runtime ?? 'runc', log, globals };
}

/**
 * A client of the state directory's serving launcher, started (detached) when none serves it.
 * `requireRuntime`: refuse a server that drives another runtime than --runtime (starts do).
 */
export async function launcherFor(context: CliContext, options: { requireRuntime?: boolean } = {}): Promise<LauncherClient> {
  const { connect } = await import('../server/connect.js');
  const idle = process.env.SALVO_IDLE_EXIT;
  return connect(context.stateDir, {
    runtime: context.runtime,
    requireRuntime: options.requireRuntime,
    logLevel: context.globals.logLevel,
    logFile: context.globals.logFile,
    idleExitMs: idle === undefined || idle === '' ? undefined : parseDuration(idle, 'SALVO_IDLE_EXIT'),
  });
}

export async function openLauncher(context: CliContext, options: LauncherOptions = {}): Promise<Launcher> {
  const { Launcher } = await import('../launcher/launcher.js');
  // SALVO_BUNDLE_HOOKS=refuse: whoever may write a jobs file may otherwise run host commands as root.
  const hooks = process.env.SALVO_BUNDLE_HOOKS;
  const bundleHooks = hooks === undefined || hooks === '' ? {} : { bundleHooks: hooks as LauncherOptions['bundleHooks'] };
  return Launcher.open({ stateDir: context.stateDir, runtime: context.runtime, logger: context.log.logger, ...bundleHooks, ...options });
}

/**
 * Records as the serving launcher sees them; beside an in-process launcher (the API, bench), which
 * serves no socket, from the store read-only.
 */
export async function listRecords(context: CliContext, filter: ListFilter & { withCleanup?: boolean }): Promise<ProcessRecord[]> {
  let launcher: LauncherClient;
  try {
    launcher = await launcherFor(context);
  } catch (error) {
    if (!(error instanceof SalvoError && error.code === 'ERR_STATE_LOCKED')) throw error;
    const store = await readStore(context);
    try {
      return store?.list(filter) ?? [];
    } finally {
      store?.close();
    }
  }
  try {
    return await launcher.list(filter);
  } finally {
    await launcher.close();
  }
}

/**
 * The records for reading only, beside a launcher that may be running; null when none ever ran.
 * A state directory this user cannot read is ERR_STATE_DIR (exit 3), not an empty store.
 */
export async function readStore(context: CliContext): Promise<RecordReader | null> {
  try {
    accessSync(context.stateDir, constants.R_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new SalvoError(
        'ERR_STATE_DIR',
        `cannot read the state directory ${context.stateDir} (${code ?? String(error)}): run as its owner or pass --state-dir`,
        {
          cause: error,
        },
      );
    }
  }
  const { RecordReader } = await import('../store/records.js');
  return RecordReader.open(context.stateDir);
}

/**
 * `fn` of a recorded process (the init unless `execId` says otherwise), read from the store
 * opened read-only; ERR_NOT_FOUND naming the state directory when there is no such record.
 */
export async function withRecord<T>(
  context: CliContext,
  id: string,
  execId: string,
  fn: (record: ProcessRecord, store: RecordReader) => T,
): Promise<T> {
  const store = await readStore(context);
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
