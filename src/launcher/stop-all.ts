// close()'s 'kill': stop every live process of the launcher, through the runtime first.
import { INIT_EXEC_ID } from '../io/process-dir.js';
import { killArgs } from '../runtime/argv.js';
import type { Logger } from '../types.js';
import type { LiveProcess } from './exit-registry.js';
import type { Lifecycle } from './lifecycle.js';
import { delay } from '../io/timer.js';

/**
 * SIGTERM to every container (adopted ones too), SIGKILL after the grace period; then our own
 * children that the runtime could not stop get SIGKILL directly (a pid we track and have not
 * reaped cannot have been reused). Resolves once our children are reaped; an adopted process
 * that outlives all this is left running, for the next launcher to adopt.
 */
export async function stopAll(lifecycle: Lifecycle, live: LiveProcess[], graceMs: number, logger: Logger): Promise<void> {
  if (live.length === 0) return;
  const running = (l: LiveProcess): boolean => lifecycle.tracking.registry.byPid(l.pid) === l;
  const inits = live.filter((l) => l.execId === INIT_EXEC_ID);
  await Promise.allSettled(inits.map((l) => lifecycle.runtimeCommand(l.id, killArgs(l.id, 'SIGTERM', { all: true }), 'high')));
  if (await allExitWithin(lifecycle, live, graceMs)) return;
  const remaining = inits.filter(running);
  await Promise.allSettled(remaining.map((l) => lifecycle.runtimeCommand(l.id, killArgs(l.id, 'SIGKILL', { all: true }), 'high')));
  if (await allExitWithin(lifecycle, live, KILL_CONFIRM_MS)) return;
  const own = live.filter((l) => !l.adopted);
  for (const l of own.filter(running)) {
    logger.warn({ id: l.id, initPid: l.pid }, 'the runtime did not stop it: sending SIGKILL directly');
    try {
      process.kill(l.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  await Promise.all(own.map((l) => lifecycle.tracking.registry.reaped(l)));
  for (const l of live.filter(running)) logger.warn({ id: l.id, initPid: l.pid }, 'an adopted process outlived close; left running');
}

// After SIGKILL through the runtime, how long close waits before signalling its children itself.
const KILL_CONFIRM_MS = 2000;

/** True when every one of these processes has exited (been reaped: its commit may wait for room) within ms. */
async function allExitWithin(lifecycle: Lifecycle, live: readonly LiveProcess[], ms: number): Promise<boolean> {
  const all = Promise.all(live.map((l) => lifecycle.tracking.registry.reaped(l))).then(() => true);
  return Promise.race([all, delay(ms).then(() => false)]);
}
