// `launcher.checkpoint`: CRIU images of a running container through the pool, its CRIU flags
// stored beside them (salvo-checkpoint.json) for the restore (`start({ checkpoint })`).
import { join } from 'node:path';
import { SalvoError, errorFromPlain } from '../errors.js';
import type { CheckpointResult, CheckpointSpec } from '../types.js';
import type { Lifecycle } from './lifecycle.js';
import { normalizeCheckpointSpec } from './validate-lifecycle.js';
import { validateId } from './validate.js';

// CRIU writes all of a container's memory: far longer than a start may take.
const CHECKPOINT_TIMEOUT_MS = 10 * 60_000;

export async function checkpointContainer(lifecycle: Lifecycle, id: string, spec: CheckpointSpec): Promise<CheckpointResult> {
  validateId(id, 'container id');
  const checkpoint = normalizeCheckpointSpec(spec);
  lifecycle.assertLive(id);
  const bundle = lifecycle.store.get(id)?.bundle;
  const dir = checkpoint.dir ?? (bundle == null ? null : join(bundle, 'checkpoints', checkpoint.name as string));
  if (dir === null) throw new SalvoError('ERR_NOT_FOUND', `container ${id} has no recorded bundle: give the checkpoint a dir`);
  const result = await lifecycle.pool.run('checkpoint', {
    runtime: lifecycle.runtime.invocation,
    id,
    imagePath: dir,
    workPath: checkpoint.workDir,
    leaveRunning: checkpoint.leaveRunning,
    criu: checkpoint.criu,
    logFile: join(lifecycle.initDirOf(id), 'checkpoint.log.json'),
    timeoutMs: CHECKPOINT_TIMEOUT_MS,
  });
  if (!result.ok) {
    const error = errorFromPlain(result.error, result.runtimeExitCode);
    Object.assign(error.details, { id, dir });
    throw error;
  }
  return { id, dir, leftRunning: checkpoint.leaveRunning };
}
