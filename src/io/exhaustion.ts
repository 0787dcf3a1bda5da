// Running out of file descriptors or processes (EMFILE, ENFILE, EAGAIN) is transient under load:
// the launch waits with backoff and tries again instead of failing, and says how long it waited.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SalvoError } from '../errors.js';

/** Errors of an open, pipe, pidfd_open or spawn that go away once other processes release their share. */
const EXHAUSTION_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN']);

const FIRST_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 250;

export function isExhaustionCode(code: unknown): boolean {
  return typeof code === 'string' && EXHAUSTION_CODES.has(code);
}

export function isExhaustion(error: unknown): boolean {
  return isExhaustionCode((error as { code?: unknown } | null)?.code);
}

/** How long one launch may keep waiting, and how long it has waited so far. */
export interface Patience {
  /** Epoch ms after which waiting stops (Infinity: wait as long as it takes). */
  until: number;
  waitedMs: number;
}

export function patienceFor(ms: number): Patience {
  return { until: ms > 0 ? Date.now() + ms : Infinity, waitedMs: 0 };
}

/**
 * No waiting at all: for a call whose caller holds fds, so that it can release them before it
 * waits (holding fds while waiting for more deadlocks launches under RLIMIT_NOFILE).
 */
export function noPatience(): Patience {
  return { until: 0, waitedMs: 0 };
}

/** The wait before retry number `attempt` (0-based): doubling, capped, with jitter so waiters spread out. */
export function backoffMs(attempt: number): number {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/** Sleeps the backoff of `attempt`, counted in `patience`; false when the patience is used up. */
export async function waitBeforeRetry(patience: Patience, attempt: number): Promise<boolean> {
  const left = patience.until - Date.now();
  if (left <= 0) return false;
  const ms = Math.min(left, backoffMs(attempt));
  const began = performance.now();
  await sleep(ms);
  patience.waitedMs += performance.now() - began;
  return true;
}

/**
 * Runs `action` until it does not fail for lack of fds or processes. Other errors pass through;
 * exhaustion beyond the patience becomes ERR_RESOURCE_EXHAUSTED naming `what`.
 */
export async function patiently<T>(what: string, action: () => T | Promise<T>, patience: Patience): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!isExhaustion(error)) throw error;
      if (!(await waitBeforeRetry(patience, attempt))) {
        const code = (error as { code: string }).code;
        throw new SalvoError(
          'ERR_RESOURCE_EXHAUSTED',
          `${what}: still ${code} after waiting ${Math.round(patience.waitedMs)} ms for a free file descriptor or process`,
          { cause: error },
        );
      }
    }
  }
}

/**
 * A small file's text, '' when it does not exist or no fd came free within the patience. Read
 * synchronously: for a pid file or a log, fs.promises' FileHandle round trips through the thread
 * pool cost more CPU than the read itself.
 */
export function readTextPatiently(path: string, patience: Patience): Promise<string> {
  const read = (): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      if (isExhaustion(error)) throw error;
      return '';
    }
  };
  return patiently(`reading ${path}`, read, patience).catch(() => '');
}
