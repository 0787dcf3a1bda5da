// What a launcher does at open for the one before it (DESIGN §7): records a launcher that died left
// unresolved are adopted (their process still runs) or resolved lost, and the overlays of
// containers that no longer run are unmounted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { overlayMountsUnder } from '../image/mount.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import { readProcStat, startTimeToEpochMs } from '../io/procfs.js';
import { deleteArgs } from '../runtime/argv.js';
import { planRecovery } from '../store/recovery.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../types.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * Records left by a launcher that died: adopt what still runs, mark the rest lost (§7) and
 * force-delete their containers; `removeEmptyCgroups` once those deletes are done.
 */
export function recoverRecords(store: Store, lifecycle: Lifecycle, logger: Logger, removeEmptyCgroups: () => void): void {
  const unresolved = store.unresolved();
  if (unresolved.length === 0) return;
  const actions = planRecovery(unresolved, {
    startTimeOf: (pid) => readProcStat(pid)?.startTime ?? null,
    pidFileOf: (dir) => {
      const pid = Number.parseInt(readFileSafe(join(dir, 'pid')), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    },
    ticksToEpochMs: startTimeToEpochMs,
  });
  for (const action of actions) {
    const { record } = action;
    if (action.kind === 'adopt') {
      // Started by the launcher that died, not by this one: it ran since its own start time.
      const startedAt = Math.round(startTimeToEpochMs(action.pidStartTime));
      if (record.state === 'subscribed') store.markRunning(record.seq, action.pid, action.pidStartTime, startedAt);
      lifecycle.tracking.track(record.seq, record.id, record.execId, action.pid, action.pidStartTime, record.dir, true);
      logger.info({ id: record.id, initPid: action.pid }, 'adopted a process left by an earlier launcher');
    } else {
      store.recordExits([
        { seq: record.seq, state: 'lost', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null, at: Date.now() },
      ]);
      logger.warn({ id: record.id, reason: action.reason }, 'record resolved as lost');
      if (record.execId === INIT_EXEC_ID) {
        // Awaited by close and by a new start of this id, like the delete after an exit.
        lifecycle.tracking.noteDelete(
          record.id,
          lifecycle.runtimeCommand(record.id, deleteArgs(record.id, { force: true }), 'low').then(
            () => undefined,
            () => undefined,
          ),
        );
      }
    }
  }
  // The force-deletes leave their containers' parent cgroup behind: remove it once they are done.
  void Promise.allSettled([...lifecycle.tracking.deletes.values()]).then(removeEmptyCgroups);
}

/**
 * After a crash: half-made image unpacks go, and so does every overlay of a container that is not
 * running any more (its delete or its record's recovery may never have come).
 */
export async function recoverImageMounts(lifecycle: Lifecycle, stateDir: string, logger: Logger): Promise<void> {
  lifecycle.images.recover();
  const containers = join(stateDir, 'containers');
  const helper = lifecycle.mountHelper;
  // One read of the mountinfo here: when no overlay is left, open does not wait for a worker to start.
  let points: string[];
  try {
    points = overlayMountsUnder(helper.mountinfo, containers);
  } catch (error) {
    logger.warn({ err: error }, 'cannot read the mount table to find the overlays a killed launcher left');
    return;
  }
  const live = new Set(lifecycle.tracking.registry.all().map((l) => l.id));
  const ids = new Set(points.map((point) => point.slice(containers.length + 1).split('/')[0] ?? ''));
  const dirs = [...ids].filter((id) => id !== '' && !live.has(id)).map((id) => join(containers, id));
  if (dirs.length === 0) return;
  await lifecycle.pool.run('unmount', { mount: helper, dirs }, 'high').catch((error: unknown) => {
    logger.warn({ err: error }, 'cannot unmount the overlays a killed launcher left');
  });
}

/** This boot's id: a pid recorded under another boot is not the same process. */
export function readBootId(): string | null {
  return readFileSafe('/proc/sys/kernel/random/boot_id').trim() || null;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
