// Launcher options: validated once, with messages that name the option, then normalized
// against the defaults in one constant.
import { SalvoError } from '../errors.js';
import type { LauncherOptions, Logger } from '../types.js';
import { defaultStateDir } from './state-dir.js';
import { isMilliseconds, showValue } from './validate.js';

export const LAUNCHER_DEFAULTS = {
  runtime: 'runc',
  workers: 1,
  tasksPerWorker: 16,
  startTimeoutMs: 60_000,
  orphanGraceMs: 5_000,
  crunHybridWorkaround: 'auto',
  deleteAfterExit: true,
  spawner: 'native',
  bundleHooks: 'allow',
} as const;

export interface NormalizedOptions {
  stateDir: string;
  runtime: string;
  runtimeRoot: string | null;
  runtimeArgs: string[];
  workers: number;
  tasksPerWorker: number;
  startTimeoutMs: number;
  orphanGraceMs: number;
  crunHybridWorkaround: 'auto' | 'off';
  deleteAfterExit: boolean;
  spawner: 'native' | 'execa';
  bundleHooks: 'allow' | 'refuse';
  logger: Logger;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function bad(option: string, value: unknown, expected: string): SalvoError {
  return new SalvoError('ERR_INVALID_OPTION', `option ${option} must be ${expected}, got ${showValue(value)}`);
}

function isLogger(value: unknown): value is Logger {
  const logger = value as Record<string, unknown> | null;
  return typeof logger === 'object' && logger !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof logger[m] === 'function');
}

function positiveInteger(option: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw bad(option, value, `an integer from 1 to ${max}`);
  }
  return value;
}

function milliseconds(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!isMilliseconds(value)) throw bad(option, value, 'a number of ms ≥ 0');
  return value;
}

export function normalizeOptions(options: LauncherOptions = {}): NormalizedOptions {
  if (typeof options !== 'object' || options === null) throw bad('options', options, 'an object');
  const known = new Set([
    'stateDir',
    'runtime',
    'runtimeRoot',
    'runtimeArgs',
    'workers',
    'tasksPerWorker',
    'startTimeoutMs',
    'orphanGraceMs',
    'crunHybridWorkaround',
    'deleteAfterExit',
    'spawner',
    'bundleHooks',
    'logger',
  ]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new SalvoError('ERR_INVALID_OPTION', `unknown option ${key}`);
  }
  const stateDir = options.stateDir ?? defaultStateDir();
  if (typeof stateDir !== 'string' || stateDir === '') throw bad('stateDir', stateDir, 'a directory path');
  const runtime = options.runtime ?? LAUNCHER_DEFAULTS.runtime;
  if (typeof runtime !== 'string' || runtime === '') throw bad('runtime', runtime, '"runc", "crun" or a path');
  if (options.runtimeRoot !== undefined && (typeof options.runtimeRoot !== 'string' || options.runtimeRoot === '')) {
    throw bad('runtimeRoot', options.runtimeRoot, 'a directory path');
  }
  const runtimeArgs = options.runtimeArgs ?? [];
  if (!Array.isArray(runtimeArgs) || runtimeArgs.some((arg) => typeof arg !== 'string')) {
    throw bad('runtimeArgs', runtimeArgs, 'an array of strings');
  }
  const workaround = options.crunHybridWorkaround ?? LAUNCHER_DEFAULTS.crunHybridWorkaround;
  if (workaround !== 'auto' && workaround !== 'off') throw bad('crunHybridWorkaround', workaround, '"auto" or "off"');
  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw new SalvoError('ERR_INVALID_OPTION', 'option logger must have debug, info, warn and error methods (pino fits)');
  }
  const bundleHooks = options.bundleHooks ?? LAUNCHER_DEFAULTS.bundleHooks;
  if (bundleHooks !== 'allow' && bundleHooks !== 'refuse') throw bad('bundleHooks', bundleHooks, '"allow" or "refuse"');
  const deleteAfterExit = options.deleteAfterExit ?? LAUNCHER_DEFAULTS.deleteAfterExit;
  if (typeof deleteAfterExit !== 'boolean') throw bad('deleteAfterExit', deleteAfterExit, 'a boolean');
  const spawner = options.spawner ?? LAUNCHER_DEFAULTS.spawner;
  if (spawner !== 'native' && spawner !== 'execa') throw bad('spawner', spawner, '"native" or "execa"');
  return {
    stateDir,
    runtime,
    runtimeRoot: options.runtimeRoot ?? null,
    runtimeArgs: [...runtimeArgs],
    workers: positiveInteger('workers', options.workers, LAUNCHER_DEFAULTS.workers, 64),
    tasksPerWorker: positiveInteger('tasksPerWorker', options.tasksPerWorker, LAUNCHER_DEFAULTS.tasksPerWorker, 256),
    startTimeoutMs: milliseconds('startTimeoutMs', options.startTimeoutMs, LAUNCHER_DEFAULTS.startTimeoutMs),
    orphanGraceMs: milliseconds('orphanGraceMs', options.orphanGraceMs, LAUNCHER_DEFAULTS.orphanGraceMs),
    crunHybridWorkaround: workaround,
    deleteAfterExit,
    spawner,
    bundleHooks,
    logger: options.logger ?? silentLogger,
  };
}
