// salvo-checkpoint.json: the CRIU flags a checkpoint was made with, stored beside its images so
// that the restore passes the same ones (CRIU refuses or misbehaves when they disagree).
import { SalvoError } from '../errors.js';
import type { CriuOptions } from '../types.js';
import type { CheckpointOptions, RestoreOptions } from './argv.js';

export const CHECKPOINT_FILE = 'salvo-checkpoint.json';

const CRIU_FLAG_NAMES = ['tcpEstablished', 'extUnixSk', 'shellJob', 'fileLocks'] as const;

export interface StoredCheckpoint {
  version: 1;
  /** The container that was checkpointed. */
  id: string;
  /** When the images were written (ms since the epoch). */
  at: number;
  leftRunning: boolean;
  criu: Required<CriuOptions>;
}

/** Every CRIU flag as an explicit boolean. */
export function normalizeCriuOptions(options: CriuOptions): Required<CriuOptions> {
  return {
    tcpEstablished: options.tcpEstablished === true,
    extUnixSk: options.extUnixSk === true,
    shellJob: options.shellJob === true,
    fileLocks: options.fileLocks === true,
  };
}

export function storedCheckpoint(id: string, options: CheckpointOptions, at: number): StoredCheckpoint {
  return { version: 1, id, at, leftRunning: options.leaveRunning === true, criu: normalizeCriuOptions(options) };
}

/** Parses salvo-checkpoint.json; ERR_CHECKPOINT_INVALID for anything salvo did not write. */
export function parseStoredCheckpoint(text: string, file: string): StoredCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SalvoError('ERR_CHECKPOINT_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const stored = value as Partial<StoredCheckpoint> | null;
  const criu = stored?.criu as Record<string, unknown> | undefined;
  if (
    typeof stored !== 'object' ||
    stored === null ||
    stored.version !== 1 ||
    typeof stored.id !== 'string' ||
    typeof criu !== 'object' ||
    criu === null ||
    CRIU_FLAG_NAMES.some((name) => typeof criu[name] !== 'boolean')
  ) {
    throw new SalvoError('ERR_CHECKPOINT_INVALID', `${file} is not a salvo checkpoint record (version 1 with boolean criu flags)`);
  }
  return stored as StoredCheckpoint;
}

/**
 * The restore options for images with this stored record (null: images made outside salvo,
 * restored without CRIU flags). The CRIU flags are exactly the stored ones.
 */
export function restoreOptionsFor(stored: StoredCheckpoint | null, base: Omit<RestoreOptions, keyof CriuOptions>): RestoreOptions {
  return { ...base, ...normalizeCriuOptions(stored?.criu ?? {}) };
}
