// The Launcher façade (DESIGN §8): opens the state directory, store, reaper and pool, and runs
// the lifecycle of DESIGN §3 for every start: subscribe, prepare+spawn (worker), track, reap.
import { chmodSync, closeSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SalvoError } from '../errors.js';
import { removeEmptyCgroups } from '../io/cgroups.js';
import type { ImageCache } from '../image/cache.js';
import { releaseSharedContainers } from '../image/shared-containers.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import { readProcStat, type ProcStat } from '../io/procfs.js';
import { OrphanSweeper } from '../reaper/orphans.js';
import type { LatencyHistogram } from '../reaper/histogram.js';
import type { PassCost } from '../reaper/pass-cost.js';
import { killArgs, listArgs, pauseArgs, resumeArgs, stateArgs } from '../runtime/argv.js';
import { acquireStateLock, type StateLock } from '../store/lock.js';
import { native } from '../native.js';
import { Store } from '../store/store.js';
import { listWithCleanup, withCleanup, type RecordFilter } from './cleanup-view.js';
import type {
  BatchOptions,
  CheckpointResult,
  CheckpointSpec,
  ExecSpec,
  RuntimeState,
  JobResult,
  JobSpec,
  LauncherOptions,
  Exit,
  ProcessRecord,
  StartSpec,
} from '../types.js';
import { runBatch } from './batch.js';
import { checkpointContainer } from './checkpoint.js';
import { LIVE_STATES, usersByDigest } from './image-start.js';
import { Lifecycle } from './lifecycle.js';
import { normalizeOptions, type NormalizedOptions } from './options.js';
import { readBootId, recoverImageMounts, recoverRecords } from './recover.js';
import type { Proc } from './proc.js';
import { setupRuntime } from './runtime-setup.js';
import { removeFinished, type GcResult } from './gc.js';
import { gcRuntimes } from './gc-runtimes.js';
import { stopAll } from './stop-all.js';
import { ensureStateDir } from './state-dir.js';
import { isMilliseconds, normalizeSignal, validateId } from './validate.js';

export type { Proc } from './proc.js';
export type { GcResult } from './gc.js';
export type { RecordFilter } from './cleanup-view.js';

export interface RuntimeInfo {
  path: string;
  flavour: string;
  version: string;
  root: string;
  /** True when crun runs in salvo's private mount namespace (hybrid cgroup host). */
  namespaced: boolean;
  /** That namespace's file (/proc/<pid>/ns/mnt), or null. */
  mountNamespace: string | null;
}

export interface CloseOptions {
  /** What to do with containers still running: 'kill' (default), 'wait' for them, or 'leave' them. */
  containers?: 'kill' | 'wait' | 'leave';
  /** With 'kill': SIGTERM, then SIGKILL after this long. Default 10 s. */
  graceMs?: number;
}

const OWN_SESSION = readProcStat(process.pid)?.session ?? -1;

export class Launcher {
  readonly options: NormalizedOptions;
  readonly stateDir: string;
  readonly #lock: StateLock;
  readonly #store: Store;
  /** The launch path: pool, registry, reaper, and the store's writes for a launch. */
  readonly #lifecycle: Lifecycle;
  readonly #sweeper: OrphanSweeper;
  /** The runtime binary's name as /proc shows it (comm: at most 15 characters). */
  #runtimeComm = '';
  #closing: Promise<void> | null = null;
  #closed = false;

  private constructor(options: NormalizedOptions, lock: StateLock, store: Store) {
    this.options = options;
    this.stateDir = options.stateDir;
    this.#lock = lock;
    this.#store = store;
    this.#lifecycle = new Lifecycle(options, store);
    this.#sweeper = new OrphanSweeper(
      options.orphanGraceMs,
      (orphans) => {
        const at = Date.now();
        options.logger.warn({ orphans: orphans.map((o) => o.pid) }, 'reaped untracked zombies');
        try {
          this.#store.recordOrphans(orphans.map((o) => ({ pid: o.pid, exitCode: o.exitCode, signal: o.signal, at })));
        } catch (error) {
          // From a timer: a full disk must not crash the launcher; the log keeps them.
          options.logger.error({ err: error, orphans: orphans.map((o) => o.pid) }, 'cannot record orphans in the store');
        }
      },
      (stat) => this.#isRuntimeHelper(stat),
    );
  }

  /** Opens a launcher on a state directory; only one may hold a state directory at a time. */
  static async open(options: LauncherOptions = {}): Promise<Launcher> {
    const normalized = normalizeOptions(options);
    normalized.stateDir = ensureStateDir(normalized.stateDir);
    const lock = acquireStateLock(normalized.stateDir);
    // Containers' directories spread over ext4's block groups: an inode made there scans few recently deleted ones (DESIGN §10).
    native().spreadSubdirectories(join(normalized.stateDir, 'containers'));
    let store: Store | null = null;
    let launcher: Launcher | null = null;
    try {
      const dbFile = join(normalized.stateDir, 'salvo.db');
      store = Store.open(dbFile, {
        pid: process.pid,
        pidStartTime: readProcStat(process.pid)?.startTime ?? null,
        bootId: readBootId(),
      });
      for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
      launcher = new Launcher(normalized, lock, store);
      const runtime = await setupRuntime(normalized, launcher.#lifecycle.pool);
      launcher.#lifecycle.runtime = runtime;
      launcher.#runtimeComm = basename(runtime.path).slice(0, 15);
      store.setRuntime(runtime.path, runtime.invocation.root);
      const opened = launcher;
      recoverRecords(store, launcher.#lifecycle, normalized.logger, () => opened.#removeEmptyCgroups());
      await recoverImageMounts(launcher.#lifecycle, normalized.stateDir, normalized.logger);
      launcher.#sweeper.start();
      return launcher;
    } catch (error) {
      if (launcher !== null) await launcher.#shutdown();
      else {
        store?.close();
        lock.release();
      }
      throw error;
    }
  }

  /** Which runtime binary, flavour and version this launcher drives. */
  get runtime(): RuntimeInfo {
    const r = this.#lifecycle.runtime;
    return {
      path: r.path,
      flavour: r.flavour,
      version: r.version,
      root: r.invocation.root,
      namespaced: r.namespace !== null,
      mountNamespace: r.namespace?.mountNamespace ?? null,
    };
  }

  /** Starts one container; rejects with a SalvoError (ERR_RUNTIME_FAILED, …) when it does not start. */
  start(spec: StartSpec): Promise<Proc> {
    return this.#lifecycle.start(spec, null);
  }

  /** The default busybox bundle, built on first use and cached in the state directory. */
  defaultBundle(): Promise<string> {
    return this.#lifecycle.defaultBundle();
  }

  /**
   * A zombie left by the runtime itself (crun's detach fork): named like the runtime binary and
   * in a session of its own. A child this process spawned by name stays in our session.
   */
  #isRuntimeHelper(stat: ProcStat): boolean {
    return stat.comm === this.#runtimeComm && stat.session !== OWN_SESSION;
  }

  /**
   * Sends a signal to a running container's init (or all its processes) through the runtime; with
   * `execId`, to that exec'd process (by its pid: tracked and unreaped, it cannot have been reused).
   */
  async kill(id: string, signal: string | number = 'SIGTERM', options: { all?: boolean; execId?: string } = {}): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    const sig = normalizeSignal(signal);
    if (options.execId !== undefined && options.execId !== INIT_EXEC_ID)
      return this.#lifecycle.signalExec(id, validateId(options.execId, 'exec id'), sig);
    this.#lifecycle.assertLive(id);
    await this.#lifecycle.runtimeCommand(id, killArgs(id, sig, options), 'high');
  }

  /**
   * Runs a process in a running container (`exec -d`), tracked like an init: its own record,
   * its exit recorded exactly once. Rejects with ERR_CONTAINER_STOPPED when the container is
   * not running, or the runtime's error (ERR_RUNTIME_FAILED) when the exec fails.
   */
  exec(id: string, spec: ExecSpec): Promise<Proc> {
    return this.#lifecycle.exec(id, spec);
  }

  /**
   * Checkpoints a running container with CRIU into `<bundle>/checkpoints/<name>` (or `dir`) and
   * stores its CRIU flags there, so that `start({ checkpoint })` restores with the same ones.
   */
  async checkpoint(id: string, spec: CheckpointSpec): Promise<CheckpointResult> {
    this.#assertNotClosed();
    return checkpointContainer(this.#lifecycle, id, spec);
  }

  /** Freezes every process of a running container (`runtime pause`). */
  async pause(id: string): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    this.#lifecycle.assertLive(id);
    await this.#lifecycle.runtimeCommand(id, pauseArgs(id), 'high');
  }

  /** Thaws a paused container (`runtime resume`). */
  async resume(id: string): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    this.#lifecycle.assertLive(id);
    await this.#lifecycle.runtimeCommand(id, resumeArgs(id), 'high');
  }

  /** The runtime's view of a container (`runtime state`, parsed): status, pid, bundle… */
  async state(id: string): Promise<RuntimeState> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    if (this.#store.get(id) === undefined) throw new SalvoError('ERR_NOT_FOUND', `no container ${id}`);
    const result = await this.#lifecycle.runtimeCommand(id, stateArgs(id), 'normal');
    try {
      return JSON.parse(result.stdout) as RuntimeState;
    } catch (error) {
      throw new SalvoError('ERR_RUNTIME_FAILED', `runtime state ${id} printed no JSON: ${result.stdout.slice(0, 200)}`, { cause: error });
    }
  }

  /**
   * Runs jobs from an iterable or async iterable and yields a JobResult for each as it finishes
   * (DESIGN §8). A job's own failure is a result, never an exception.
   */
  batch(jobs: Iterable<JobSpec> | AsyncIterable<JobSpec>, options: BatchOptions = {}): AsyncGenerator<JobResult> {
    this.#assertNotClosed();
    return runBatch(
      {
        start: (spec, gate) => this.#lifecycle.start(spec, gate),
        kill: (id, signal, opts) => this.kill(id, signal, opts),
        hasInBatch: (batchId, id) => this.#store.hasInBatch(batchId, id),
        capacity: this.#lifecycle.pool.capacity,
      },
      jobs,
      options,
    );
  }

  /** Containers the runtime knows under salvo's --root (id and status). */
  async runtimeContainers(): Promise<{ id: string; status: string; pid: number }[]> {
    const result = await this.#lifecycle.runtimeCommand('', listArgs(), 'normal');
    const parsed = JSON.parse(result.stdout.trim() || 'null') as { id: string; status: string; pid: number }[] | null;
    return (parsed ?? []).map(({ id, status, pid }) => ({ id, status, pid }));
  }

  /**
   * Deletes finished containers' runtime state and process directories and prunes their
   * records when they ended more than `olderThanMs` ago, under every runtime and --root the
   * store has records for. Never touches a running container; thaws and deletes a paused one
   * whose process no launcher watches.
   */
  async gc(options: { olderThanMs?: number } = {}): Promise<GcResult> {
    this.#assertNotClosed();
    const olderThanMs = options.olderThanMs ?? 0;
    if (!isMilliseconds(olderThanMs)) {
      throw new SalvoError('ERR_INVALID_OPTION', `gc option olderThanMs must be a number of ms ≥ 0, got ${String(olderThanMs)}`);
    }
    const { runtimes, close } = await gcRuntimes(this.#lifecycle, this.options, this.options.logger);
    try {
      return await removeFinished(this.#lifecycle, runtimes, Date.now() - olderThanMs, (orphaned) => this.#removeEmptyCgroups(orphaned));
    } finally {
      await close();
    }
  }

  /** The newest record of a container (or of one of its execs), with its `cleanup` when its delete failed. */
  get(id: string, execId = INIT_EXEC_ID): ProcessRecord | undefined {
    this.#assertStoreOpen();
    const record = this.#store.get(id, execId);
    return record === undefined ? undefined : withCleanup(this.#store, this.#lifecycle.tracking.cleanup, record);
  }

  /** Records; with `withCleanup`, also those of containers whose delete after the exit failed (ps). */
  list(filter: RecordFilter = {}): ProcessRecord[] {
    this.#assertStoreOpen();
    return listWithCleanup(this.#store, this.#lifecycle.tracking.cleanup, filter);
  }

  /** Reap-path measurements: per exit, from the reap pass noticing it to its committed row. */
  get reapLatency(): LatencyHistogram {
    return this.#lifecycle.tracking.reaper.passLatency;
  }

  /** Reap-path cost: passes, exits, and the time split between waitid and the exit handler. */
  get reapCost(): PassCost {
    return this.#lifecycle.tracking.reaper.passCost;
  }

  /**
   * Removes the cached images no live container uses and no overlay (here or in crun's namespace)
   * has as its lower directory; returns their digests.
   */
  pruneImages(): string[] {
    this.#assertNotClosed();
    const users = usersByDigest(this.list({ states: [...LIVE_STATES] }));
    const ns = this.runtime.mountNamespace;
    const mountinfos = ['/proc/self/mountinfo', ...(ns === null ? [] : [ns.replace(/ns\/mnt$/, 'mountinfo')])];
    return this.images.prune(new Set(users.keys()), mountinfos);
  }

  /** The exit of a live process (started here or adopted), or undefined when none is live under that id. */
  exited(id: string, execId = INIT_EXEC_ID): Promise<Exit> | undefined {
    return this.#lifecycle.tracking.registry.byId(id, execId)?.exited;
  }

  /** Resolves once every runtime delete after an exit that is under way now has ended (held ones go at once). */
  async deletesSettled(): Promise<void> {
    this.#lifecycle.hurryDeletes();
    await Promise.allSettled([...this.#lifecycle.tracking.deletes.values()]);
  }

  /** Number of processes being watched right now. */
  get liveCount(): number {
    return this.#lifecycle.tracking.registry.size;
  }

  /** Exits reaped that the store has not committed yet (a full disk): they are retried, not reported. */
  get pendingExits(): number {
    return this.#lifecycle.tracking.registry.uncommitted;
  }

  /** Images unpacked once per digest under <stateDir>/images (src/image/). */
  get images(): ImageCache {
    return this.#lifecycle.images;
  }

  /**
   * Removes the state directory's empty parent cgroup (DESIGN §13), unless a start (whose runtime
   * may be making it) is under way, and the empty container cgroups `orphaned` names.
   */
  #removeEmptyCgroups(orphaned: (id: string) => boolean = () => false): void {
    if (this.#closed) return;
    removeEmptyCgroups(this.stateDir, (id) => !orphaned(id), this.#lifecycle.starting.size === 0);
  }

  /**
   * Stops new work, settles in-flight starts, then kills (default), waits for or leaves the
   * running containers; records stay. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#close(options);
      this.#lifecycle.abortQueued();
    }
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    const mode = options.containers ?? 'kill';
    if (mode !== 'kill' && mode !== 'wait' && mode !== 'leave') {
      throw new SalvoError('ERR_INVALID_OPTION', `close option containers must be kill, wait or leave, got ${String(mode)}`);
    }
    const graceMs = options.graceMs ?? 10_000;
    await Promise.allSettled([...this.#lifecycle.inflight]);
    const registry = this.#lifecycle.tracking.registry;
    if (mode === 'wait') await Promise.all(registry.all().map((l) => registry.reaped(l)));
    if (mode === 'kill') await stopAll(this.#lifecycle, registry.all(), graceMs, this.options.logger);
    // Exits the store still refuses (a full disk) end as not recorded, never as recorded.
    registry.closeUncommitted();
    this.#lifecycle.failures.close();
    await registry.settled();
    await Promise.allSettled([...this.#lifecycle.tracking.deletes.values()]);
    this.#removeEmptyCgroups();
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    // Processes left running ('leave'): nobody watches them now, so the exit fifo's writer goes
    // too; a watcher sees EOF without an exitStatus, as after a launcher crash.
    for (const live of this.#lifecycle.tracking.registry.all()) {
      if (live.exitFd !== null) closeSync(live.exitFd);
      live.exitFd = null;
    }
    // The reaper before the pool: no exit may arrive once its exitStatus cannot be written.
    this.#lifecycle.tracking.reaper.close();
    // Zombies still in their grace period are reaped now: none is left behind, and no sweep
    // timer outlives the store it reports to.
    await this.#sweeper.drain();
    await this.#lifecycle.pool.destroy();
    await this.#lifecycle.runtime?.namespace?.close();
    releaseSharedContainers(this.stateDir, this.options.logger);
    try {
      this.#store.close(); // the database is closed even when its closing time cannot be written
    } catch (error) {
      this.options.logger.warn({ err: error }, 'cannot record the launcher closing in the store');
    }
    this.#lock.release();
  }

  #assertNotClosed(): void {
    if (this.#closing !== null) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the launcher is closing and takes no new work');
  }

  #assertStoreOpen(): void {
    if (this.#closed) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the launcher is closed: its store is no longer open');
  }
}
