// `launcher.exec`: a new process in a running container, tracked like an init (DESIGN §3 with
// `exec -d`): subscribe, prepare+spawn (worker), track; its exit is recorded exactly once and
// nothing is deleted in the runtime when it ends.
import { existsSync } from 'node:fs';
import { SalvoError, errorFromPlain } from '../errors.js';
import { INIT_EXEC_ID, processDir } from '../io/process-dir.js';
import type { Store } from '../store/store.js';
import type { ExecSpec, RuntimeInvocation, StartResult } from '../types.js';
import type { ExitRegistry, LiveProcess } from './exit-registry.js';
import type { Proc } from './launcher.js';
import type { RuntimePool } from './pool.js';
import { attachTerminal, closeProcessIo, openProcessIo, outputStreams, releaseKeepAlive, type ProcessIo } from './process-io.js';
import { normalizeExecSpec } from './validate-lifecycle.js';
import { validateId } from './validate.js';

export interface ExecContext {
  stateDir: string;
  pool: RuntimePool;
  runtime: RuntimeInvocation;
  store: Store;
  registry: ExitRegistry;
  timeoutMs: number;
  track(seq: number, id: string, execId: string, pid: number, pidStartTime: number, dir: string): LiveProcess;
}

const now = (): number => performance.timeOrigin + performance.now();

let execCounter = 0;

/** `exec-<n>`, skipping ids whose directory exists: an earlier exec's files stay as history. */
function freshExecId(stateDir: string, id: string): string {
  for (;;) {
    const execId = `exec-${++execCounter}`;
    if (!existsSync(processDir(stateDir, id, execId))) return execId;
  }
}

/** Throws ERR_NOT_FOUND or ERR_CONTAINER_STOPPED unless the container's init is live. */
export function assertLive(context: Pick<ExecContext, 'store' | 'registry'>, id: string): void {
  if (context.registry.byId(id) !== undefined) return;
  const record = context.store.get(id);
  if (record === undefined) throw new SalvoError('ERR_NOT_FOUND', `no container ${id}`);
  throw new SalvoError('ERR_CONTAINER_STOPPED', `container ${id} is not running (${record.state})`, { details: { id } });
}

export async function execInContainer(context: ExecContext, id: string, spec: ExecSpec): Promise<Proc> {
  const queuedAt = now();
  validateId(id, 'container id');
  const exec = normalizeExecSpec(spec);
  assertLive(context, id);
  const init = context.store.get(id);
  const bundle = init?.bundle;
  if (init === undefined || bundle == null) throw new SalvoError('ERR_NOT_FOUND', `container ${id} has no recorded bundle`);
  const execId = exec.execId ?? freshExecId(context.stateDir, id);
  const dir = processDir(context.stateDir, id, execId);
  const seq = context.store.subscribe({ id, execId, dir, bundle, batchId: null, labels: exec.labels, at: Date.now() });

  let io: ProcessIo = { prepared: false, readers: null, console: null };
  let result: StartResult;
  try {
    io = await openProcessIo(context.pool, dir, exec.stdio, exec.terminal, context.timeoutMs, null, exec.fifoHandoff);
    result = await context.pool.run<StartResult>({
      kind: 'exec',
      runtime: context.runtime,
      id,
      dir,
      initDir: processDir(context.stateDir, id, INIT_EXEC_ID),
      bundle,
      override: exec.override,
      stdio: exec.stdio,
      prepared: io.prepared,
      consoleSocket: io.console?.path ?? null,
      timeoutMs: context.timeoutMs,
      queuedAt,
    });
  } catch (error) {
    const failure = error instanceof SalvoError ? error : new SalvoError('ERR_RUNTIME_FAILED', String(error), { cause: error });
    context.store.markFailed({ seq, runtimeExitCode: null, errorCode: failure.code, errorMessage: failure.message, at: Date.now() });
    closeProcessIo(io);
    throw failure;
  } finally {
    releaseKeepAlive(io);
  }

  if (!result.ok) {
    // The init ended while the runtime ran: that, not the runtime's wording, is the reason.
    const plain =
      result.error.code === 'ERR_RUNTIME_FAILED' && context.registry.byId(id) === undefined
        ? { code: 'ERR_CONTAINER_STOPPED', message: `container ${id} stopped: ${result.error.message}` }
        : result.error;
    context.store.markFailed({ seq, runtimeExitCode: result.runtimeExitCode, errorCode: plain.code, errorMessage: plain.message, at: Date.now() });
    closeProcessIo(io);
    const error = errorFromPlain(plain, result.runtimeExitCode);
    Object.assign(error.details, { id, execId, timings: result.timings });
    throw error;
  }

  const live = context.track(seq, id, execId, result.pid, result.pidStartTime, dir);
  return {
    id,
    execId,
    pid: result.pid,
    dir,
    timings: result.timings,
    exited: live.exited,
    ...outputStreams(io),
    terminal: await attachTerminal(io, live),
  };
}
