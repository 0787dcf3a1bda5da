// The launch path (DESIGN §3), once, for a container's init and for a process exec'd into it:
// subscribe (store) → prepare and IO (worker, main thread) → spawn (worker) → track (registry,
// reaper) → exit (registry) → delete (worker). Owns the store's writes for a launch and the pool;
// from the spawn on, tracking.ts (registry, reaper, deletes); the Launcher keeps open, close,
// recovery and gc.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBusyboxBundle } from '../bundle/busybox.js';
import { SalvoError, errorFromPlain } from '../errors.js';
import { ImageCache } from '../image/cache.js';
import { HOST_MOUNTS, mountHelperFor } from '../image/mount.js';
import { INIT_EXEC_ID, containerDir, processDirStem } from '../io/process-dir.js';
import { killArgs } from '../runtime/argv.js';
import type { Store } from '../store/store.js';
import { now } from '../time.js';
import type { ExecSpec, FifoHandoff, MountHelper, PlainError, RuntimeInvocation, StartSpec } from '../types.js';
import type { CommandResult, RestorePlan, StartTask } from '../worker/protocol.js';
import { DeleteBatcher } from './delete-batch.js';
import { FailureWriter } from './failure-writer.js';
import { imageRootfs, startFromImage } from './image-start.js';
import { isolationFor } from './isolation.js';
import type { NormalizedOptions } from './options.js';
import { RuntimePool, type Priority } from './pool.js';
import type { Proc } from './proc.js';
import { attachTerminal, closeProcessIo, openProcessIo, outputStreams, releaseKeepAlive, type ProcessIo } from './process-io.js';
import type { RuntimeSetup } from './runtime-setup.js';
import { Tracking } from './tracking.js';
import { normalizeExecSpec } from './validate-lifecycle.js';
import { DEFAULT_LOG_LIMIT } from './sizes.js';
import { normalizeStartSpec, validateId, type NormalizedStart } from './validate.js';

/** One launch, init or exec, from its subscription on. */
interface Launch {
  seq: number;
  id: string;
  execId: string;
  terminal: boolean;
  /** The caller's cancel signal (starts only). */
  signal: AbortSignal | null;
  /** With stdio 'fifo': another process opens the read ends (salvo serve's clients). */
  fifoHandoff: FifoHandoff | null;
  /** With a terminal: another process listens here for the pty master (salvo serve's clients). */
  consoleSocket: string | null;
  task: Omit<StartTask, 'prepared' | 'consoleSocket'>;
  /** The process is salvo-init's: its exit may carry the command's signal in a status file. */
  underInit: boolean;
  /** Bytes kept of each log file after the exit (0: none kept apart: no log files, or no limit). */
  logLimit: number;
  /** Rewords the runtime's failure for this kind of launch. */
  explain: (error: PlainError) => PlainError;
}

let execCounter = 0;

export class Lifecycle {
  readonly store: Store;
  readonly pool: RuntimePool;
  /** From the spawn on: tracking, exits, deletes after them. */
  readonly tracking: Tracking;
  /** Failed starts' records, retried while the store refuses them (a full disk). */
  readonly failures: FailureWriter;
  /** Images unpacked once per digest under <stateDir>/images (src/image/). */
  readonly images: ImageCache;
  readonly #options: NormalizedOptions;
  readonly stateDir: string;
  #runtime!: RuntimeSetup;
  /** The delete after an exit, batched where the runtime allows it (set with the runtime). */
  #deleteBatcher!: DeleteBatcher;
  #defaultBundle: Promise<string> | null = null;
  /** Launches under way: close settles them first. */
  readonly inflight = new Set<Promise<unknown>>();
  /** Ids whose start is under way (not yet running or failed): gc leaves them alone. */
  readonly starting = new Set<string>();
  /** Aborted by close: launches still queued for a worker are dropped, not started and then killed. */
  readonly #closeController = new AbortController();
  /** Per caller signal (a batch's, shared by its jobs): it or close, made once, not once per start. */
  readonly #orClose = new WeakMap<AbortSignal, AbortSignal>();

  constructor(options: NormalizedOptions, store: Store) {
    this.#options = options;
    this.stateDir = options.stateDir;
    this.store = store;
    this.failures = new FailureWriter(store, options.logger);
    this.images = new ImageCache(options.stateDir);
    this.pool = new RuntimePool(options.workers, options.tasksPerWorker, (error) => options.logger.error({ err: error }, 'a worker thread failed'));
    this.tracking = new Tracking(store, this.pool, options, () => this.#deleteBatcher, this.#closeController.signal);
  }

  /** How every runtime command is invoked; set once at open, before any launch. */
  set runtime(setup: RuntimeSetup) {
    this.#runtime = setup;
    this.#deleteBatcher = new DeleteBatcher(
      this.pool,
      () => setup.invocation,
      () => this.mountHelper,
      setup.flavour === 'crun',
      this.#options.logger,
      () => this.starting.size > 0,
    );
  }

  /** Deletes held behind starts go now. */
  hurryDeletes(): void {
    this.#deleteBatcher.hurry();
  }

  get runtime(): RuntimeSetup {
    return this.#runtime;
  }

  /** How workers mount and unmount images' overlays: on the host (the addon), else inside crun's namespace. */
  get mountHelper(): MountHelper {
    return this.#runtime.overlaysFromHost ? HOST_MOUNTS : mountHelperFor(this.#runtime.invocation);
  }

  #withClose(signal: AbortSignal): AbortSignal {
    let either = this.#orClose.get(signal);
    if (either === undefined) {
      either = AbortSignal.any([signal, this.#closeController.signal]);
      this.#orClose.set(signal, either);
    }
    return either;
  }

  /** Drops launches still queued for a worker (close). */
  abortQueued(): void {
    this.#closeController.abort();
  }

  /** The default busybox bundle, built on first use and cached in the state directory. */
  defaultBundle(): Promise<string> {
    this.#defaultBundle ??= ensureBusyboxBundle(this.stateDir).catch((error: unknown) => {
      this.#defaultBundle = null;
      throw error;
    });
    return this.#defaultBundle;
  }

  /** A container's init. With a spawn gate (batches), the spawn waits for a slot; the prepare before it does not. */
  async start(spec: StartSpec, gate: SharedArrayBuffer | null): Promise<Proc> {
    this.#assertNotClosing();
    const queuedAt = now();
    let start = normalizeStartSpec(spec);
    if (start.signal?.aborted === true) throw new SalvoError('ERR_ABORTED', `start of ${start.id} was aborted`);
    if (start.image !== null) start = startFromImage(start, await this.images.resolve(start.image.ref));
    const bundle = start.bundle ?? (await this.defaultBundle());
    const pendingDelete = this.tracking.deletes.get(start.id);
    if (pendingDelete !== undefined) {
      this.#deleteBatcher.hurry();
      await pendingDelete;
    }
    this.#assertNotClosing();
    const { id, batchId, labels } = start;
    // Each run of an id gets a directory of its own (`init.<seq>`): an earlier run's logs stay.
    const stem = processDirStem(this.stateDir, id);
    const seq = this.store.subscribe({ id, execId: INIT_EXEC_ID, dir: stem, numbered: true, bundle, batchId, labels, at: Date.now() });
    const dir = `${stem}${seq}`;
    // salvo's own spec (the default bundle, an image) has a pid namespace of its own: init by default.
    const isolation = isolationFor(this.#options, start, dir, spec.bundle === undefined);
    this.starting.add(id);
    try {
      return await this.#inflight(
        this.#launch({
          seq,
          id,
          execId: INIT_EXEC_ID,
          terminal: start.override?.terminal === true,
          signal: start.signal,
          fifoHandoff: start.fifoHandoff,
          consoleSocket: start.consoleSocket,
          task: {
            ...this.#taskBase(id, dir, bundle, queuedAt),
            override: start.override,
            stdio: start.stdio,
            stdin: start.stdin,
            gate,
            process: {
              kind: 'init',
              startMode: start.startMode,
              noPivot: start.noPivot,
              noNewKeyring: start.noNewKeyring,
              restore: restorePlan(start, bundle),
            },
            image: imageRootfs(start, this.mountHelper),
            isolation,
          },
          underInit: isolation.init !== null,
          // A batch job's terminal output is still being copied into stdout.log at exit: left whole.
          logLimit: start.stdio === 'log' && start.override?.terminal !== true ? start.logLimit : 0,
          explain: (error) => error,
        }),
      );
    } finally {
      this.starting.delete(id);
      if (this.starting.size === 0) this.#deleteBatcher.hurry();
    }
  }

  /** A process in a running container (`exec -d`), tracked like an init; nothing is deleted when it ends. */
  exec(id: string, spec: ExecSpec): Promise<Proc> {
    return this.#inflight(this.#exec(id, spec));
  }

  async #exec(id: string, spec: ExecSpec): Promise<Proc> {
    this.#assertNotClosing();
    const queuedAt = now();
    validateId(id, 'container id');
    const exec = normalizeExecSpec(spec);
    this.assertLive(id);
    const bundle = this.store.get(id)?.bundle;
    if (bundle == null) throw new SalvoError('ERR_NOT_FOUND', `container ${id} has no recorded bundle`);
    const execId = exec.execId ?? this.#freshExecId(id);
    const stem = processDirStem(this.stateDir, id, execId);
    const seq = this.store.subscribe({ id, execId, dir: stem, numbered: true, bundle, batchId: null, labels: exec.labels, at: Date.now() });
    const dir = `${stem}${seq}`;
    return this.#launch({
      seq,
      id,
      execId,
      terminal: exec.terminal,
      signal: null,
      fifoHandoff: exec.fifoHandoff,
      consoleSocket: exec.consoleSocket,
      task: {
        ...this.#taskBase(id, dir, bundle, queuedAt),
        override: exec.override,
        stdio: exec.stdio,
        stdin: null,
        gate: null,
        process: { kind: 'exec', initDir: this.initDirOf(id) },
        image: null,
        isolation: null,
      },
      underInit: false,
      logLimit: exec.stdio === 'log' && !exec.terminal ? DEFAULT_LOG_LIMIT : 0,
      // The init ended while the runtime ran: that, not the runtime's wording, is the reason.
      explain: (error) =>
        error.code === 'ERR_RUNTIME_FAILED' && this.tracking.registry.byId(id) === undefined
          ? { code: 'ERR_CONTAINER_STOPPED', message: `container ${id} stopped: ${error.message}` }
          : error,
    });
  }

  #taskBase(
    id: string,
    dir: string,
    bundle: string,
    queuedAt: number,
  ): Pick<StartTask, 'runtime' | 'id' | 'dir' | 'bundle' | 'timeoutMs' | 'queuedAt'> {
    return { runtime: this.#runtime.invocation, id, dir, bundle, timeoutMs: this.#options.startTimeoutMs, queuedAt };
  }

  /** IO endpoints, then the worker's prepare and spawn; a failure is recorded and nothing of the IO stays open. */
  async #launch(launch: Launch): Promise<Proc> {
    const { seq, id, execId, task } = launch;
    const name = execId === INIT_EXEC_ID ? id : `${id}/${execId}`;
    let io: ProcessIo = { prepared: false, readers: null, console: null };
    let result;
    const closing = this.#closeController.signal;
    const queueSignal = launch.signal === null ? closing : this.#withClose(launch.signal);
    try {
      // Fifos or a console socket must exist (opened by us) before the runtime is spawned.
      const listen = launch.terminal && launch.consoleSocket === null;
      io = await openProcessIo(this.pool, task.dir, task.stdio, listen, this.#options.startTimeoutMs, queueSignal, launch.fifoHandoff);
      const consoleSocket = io.console?.path ?? launch.consoleSocket;
      result = await this.pool.run('start', { ...task, prepared: io.prepared, consoleSocket }, 'normal', queueSignal);
    } catch (error) {
      let failure = error instanceof SalvoError ? error : new SalvoError('ERR_RUNTIME_FAILED', String(error), { cause: error });
      if (failure.code === 'ERR_ABORTED' && launch.signal?.aborted !== true && closing.aborted) {
        failure = new SalvoError('ERR_LAUNCHER_CLOSED', `start of ${name} was dropped: the launcher closed before a worker took it`);
      }
      this.failures.write({ seq, runtimeExitCode: null, errorCode: failure.code, errorMessage: failure.message, at: Date.now() });
      closeProcessIo(io);
      throw failure;
    } finally {
      releaseKeepAlive(io);
    }

    if (!result.ok) {
      const plain = launch.explain(result.error);
      this.failures.write({ seq, runtimeExitCode: result.runtimeExitCode, errorCode: plain.code, errorMessage: plain.message, at: Date.now() });
      closeProcessIo(io);
      const error = errorFromPlain(plain, result.runtimeExitCode);
      Object.assign(error.details, execId === INIT_EXEC_ID ? { id } : { id, execId }, { dir: task.dir, timings: result.timings });
      throw error;
    }

    const { live, watched } = this.tracking.track(
      seq,
      id,
      execId,
      result.pid,
      result.pidStartTime,
      task.dir,
      false,
      launch.underInit,
      launch.logLimit,
    );
    const watchWaitedMs = await watched;
    const proc: Proc = {
      id,
      execId,
      pid: result.pid,
      dir: task.dir,
      timings: { ...result.timings, waitedMs: result.timings.waitedMs + watchWaitedMs },
      exited: live.exited,
      ...outputStreams(io),
      terminal: await attachTerminal(io, live),
    };
    if (launch.signal?.aborted === true) {
      // Killed as `kill(id, 'SIGKILL')` would: through the runtime, while the init is live.
      if (this.tracking.registry.byId(id) !== undefined) await this.runtimeCommand(id, killArgs(id, 'SIGKILL', {}), 'high').catch(() => undefined);
      throw new SalvoError('ERR_ABORTED', `start of ${id} was aborted; the container was killed`, { details: { id, exited: live.exited } });
    }
    return proc;
  }

  /**
   * One runtime command through the pool (another runtime's with `runtime`: gc); its failure is
   * thrown as the runtime's error.
   */
  async runtimeCommand(
    id: string,
    args: string[],
    priority: Priority,
    runtime: RuntimeInvocation = this.#runtime.invocation,
  ): Promise<Extract<CommandResult, { ok: true }>> {
    const dir = id === '' ? null : this.initDirOf(id);
    // A container whose directory went (an earlier gc) logs beside the store: the runtime cannot open a log in a missing directory.
    const logFile = dir !== null && existsSync(dir) ? join(dir, `${args[0]}.log.json`) : join(this.stateDir, 'runtime.log.json');
    const result = await this.pool.run('command', { runtime, args, logFile, timeoutMs: 30_000 }, priority);
    if (!result.ok) throw errorFromPlain(result.error, result.runtimeExitCode);
    return result;
  }

  /** A signal to an exec'd process by its pid: tracked and unreaped, it cannot have been reused. */
  signalExec(id: string, execId: string, signal: string): void {
    const exec = this.tracking.registry.byId(id, execId);
    if (exec === undefined) throw new SalvoError('ERR_CONTAINER_STOPPED', `exec ${execId} of container ${id} is not running`);
    try {
      process.kill(exec.pid, /^\d+$/.test(signal) ? Number(signal) : signal);
    } catch (error) {
      throw new SalvoError('ERR_INVALID_SPEC', `cannot send ${signal} to exec ${execId}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * The process directory of the container's current (live, else newest) init: where the
   * runtime's later commands on it log. An id with no record gets its container directory.
   */
  initDirOf(id: string): string {
    return this.tracking.registry.byId(id)?.dir ?? this.store.get(id)?.dir ?? containerDir(this.stateDir, id);
  }

  /** Throws ERR_NOT_FOUND or ERR_CONTAINER_STOPPED unless the container's init is live. */
  assertLive(id: string): void {
    if (this.tracking.registry.byId(id) !== undefined) return;
    const record = this.store.get(id);
    if (record === undefined) throw new SalvoError('ERR_NOT_FOUND', `no container ${id}`);
    throw new SalvoError('ERR_CONTAINER_STOPPED', `container ${id} is not running (${record.state})`, { details: { id } });
  }

  #assertNotClosing(): void {
    if (this.#closeController.signal.aborted) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the launcher is closing and takes no new work');
  }

  async #inflight<T>(launch: Promise<T>): Promise<T> {
    this.inflight.add(launch);
    try {
      return await launch;
    } finally {
      this.inflight.delete(launch);
    }
  }

  /** `exec-<n>`, skipping exec ids the container already has a record of (or, before per-run directories, a directory). */
  #freshExecId(id: string): string {
    for (;;) {
      const execId = `exec-${++execCounter}`;
      if (this.store.get(id, execId) === undefined && !existsSync(join(containerDir(this.stateDir, id), execId))) return execId;
    }
  }
}

/** Where a restore takes its images: `<bundle>/checkpoints/<name>` unless a directory is given. */
function restorePlan(start: NormalizedStart, bundle: string): RestorePlan | null {
  const ref = start.checkpoint;
  if (ref === null) return null;
  return { imagePath: ref.dir ?? join(bundle, 'checkpoints', ref.name as string), workPath: ref.workDir };
}
