// `launcher.checkpoint`: CRIU images of a running container through the pool, its CRIU flags
// stored beside them (salvo-checkpoint.json) for the restore (`start({ checkpoint })`).
import { join } from 'node:path';
import { SalvoError, errorFromPlain } from '../errors.js';
import { processDir } from '../io/process-dir.js';
import type { Store } from '../store/store.js';
import type { CheckpointResult, CheckpointSpec, CommandResult, RuntimeInvocation } from '../types.js';
import { assertLive } from './exec.js';
import type { ExitRegistry } from './exit-registry.js';
import type { RuntimePool } from './pool.js';
import { normalizeCheckpointSpec } from './validate-lifecycle.js';
import { validateId } from './validate.js';

export interface CheckpointContext {
  stateDir: string;
  pool: RuntimePool;
  runtime: RuntimeInvocation;
  store: Store;
  registry: ExitRegistry;
}

// CRIU writes all of a container's memory: far longer than a start may take.
const CHECKPOINT_TIMEOUT_MS = 10 * 60_000;

export async function checkpointContainer(context: CheckpointContext, id: string, spec: CheckpointSpec): Promise<CheckpointResult> {
  validateId(id, 'container id');
  const checkpoint = normalizeCheckpointSpec(spec);
  assertLive(context, id);
  const bundle = context.store.get(id)?.bundle;
  const dir = checkpoint.dir ?? (bundle == null ? null : join(bundle, 'checkpoints', checkpoint.name as string));
  if (dir === null) throw new SalvoError('ERR_NOT_FOUND', `container ${id} has no recorded bundle: give the checkpoint a dir`);
  const result = await context.pool.run<CommandResult>({
    kind: 'checkpoint',
    runtime: context.runtime,
    id,
    imagePath: dir,
    workPath: checkpoint.workDir,
    leaveRunning: checkpoint.leaveRunning,
    criu: checkpoint.criu,
    logFile: join(processDir(context.stateDir, id), 'checkpoint.log.json'),
    timeoutMs: CHECKPOINT_TIMEOUT_MS,
  });
  if (!result.ok && result.error !== null) {
    const error = errorFromPlain(result.error, result.runtimeExitCode);
    Object.assign(error.details, { id, dir });
    throw error;
  }
  return { id, dir, leftRunning: checkpoint.leaveRunning };
}
