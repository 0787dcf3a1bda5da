// Making real processes that are re-parented to this (subreaper) test process.
import { execFileSync } from 'node:child_process';
import { readProcStat } from '../../src/io/procfs.js';

// The script waits until its first parent (the short-lived outer sh, pid $2) has gone: a dash that
// is still running when a background child ends reaps that child itself, so it would never reach
// us. ($PPID would not do: it is read when the inner sh starts, which may be after the outer exit.)
const AFTER_PARENT = 'while kill -0 $2 2>/dev/null; do sleep 0.01; done; ';

/**
 * Starts `count` copies of `script` (run by sh with $1 = 1…count) in the background of an sh
 * that exits at once, so that they are re-parented to this process. Returns their pids in order.
 * Call only once this process is a child subreaper.
 */
export function orphans(count: number, script: string): number[] {
  const out = execFileSync(
    '/bin/sh',
    [
      '-c',
      'i=1; while [ $i -le $2 ]; do sh -c "$1" sh $i $$ </dev/null >/dev/null 2>&1 & echo $!; i=$((i+1)); done',
      'sh',
      AFTER_PARENT + script,
      String(count),
    ],
    { encoding: 'utf8' },
  );
  return out.trim().split('\n').map(Number);
}

export function orphan(script: string): number {
  return orphans(1, script)[0] as number;
}

export function isZombie(pid: number): boolean {
  return readProcStat(pid)?.state === 'Z';
}

/** Waits (yielding to the event loop) until pid is a zombie. */
export async function waitForZombie(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isZombie(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not become a zombie within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits without yielding, so that libuv cannot reap its own child meanwhile. */
export function waitForZombieSync(pid: number, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs;
  while (!isZombie(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not become a zombie within ${timeoutMs} ms`);
  }
}
