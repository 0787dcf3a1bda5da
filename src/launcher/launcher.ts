// The Launcher façade (DESIGN §8): opens the state directory, store, reaper and pool, and runs
// the lifecycle of DESIGN §3 for every start: subscribe, prepare+spawn (worker), track, reap.
import { chmodSync, closeSync, constants, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Socket } from 'node:net';
import { ensureBusyboxBundle } from '../bundle/busybox.js';
import { SalvoError, errorFromPlain } from '../errors.js';
import { patienceFor, patiently } from '../io/exhaustion.js';
import { INIT_EXEC_ID, processDir } from '../io/process-dir.js';
import { readProcStat, startTimeToEpochMs, type ProcStat } from '../io/procfs.js';
import type { Terminal } from '../io/terminal.js';
import { OrphanSweeper } from '../reaper/orphans.js';
import type { LatencyHistogram } from '../reaper/histogram.js';
import type { PassCost } from '../reaper/pass-cost.js';
import { Reaper, unknownExit } from '../reaper/reaper.js';
import { deleteArgs, killArgs, listArgs, pauseArgs, resumeArgs, stateArgs } from '../runtime/argv.js';
import { planRecovery } from '../store/recovery.js';
import { acquireStateLock, type StateLock } from '../store/lock.js';
import { Store, type ListFilter } from '../store/store.js';
import type {
  BatchOptions,
  CheckpointResult,
  CheckpointSpec,
  ExecSpec,
  RuntimeState,
  CommandResult,
  JobResult,
  JobSpec,
  Exit,
  LaunchTimings,
  LauncherOptions,
  ProcessRecord,
  RestorePlan,
  StartResult,
  StartSpec,
} from '../types.js';
import { runBatch } from './batch.js';
import { checkpointContainer } from './checkpoint.js';
import { assertLive, execInContainer } from './exec.js';
import { ExitRegistry, deferredExit, type LiveProcess } from './exit-registry.js';
import { normalizeOptions, type NormalizedOptions } from './options.js';
import { attachTerminal, closeProcessIo, openProcessIo, outputStreams, releaseKeepAlive, type ProcessIo } from './process-io.js';
import { RuntimePool, type Priority } from './pool.js';
import { setupRuntime, type RuntimeSetup } from './runtime-setup.js';
import { ensureStateDir } from './state-dir.js';
import { isMilliseconds, normalizeSignal, normalizeStartSpec, validateId, type NormalizedStart } from './validate.js';

/** A started process: resolves from `start` once the runtime reports it running. */
export interface Proc {
  id: string;
  execId: string;
  pid: number;
  /** The process directory (DESIGN §4). */
  dir: string;
  timings: LaunchTimings;
  /** Resolves once the exit is committed, exitStatus written and the exit fifo closed. Never rejects. */
  exited: Promise<Exit>;
  /** With stdio 'fifo': the process's output as it is written. */
  stdout: Socket | null;
  stderr: Socket | null;
  /** With terminal: true: the pty (read and write it; destroy it if you do not read it) and its size. */
  terminal: Terminal | null;
}

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

export interface GcResult {
  containersDeleted: string[];
  directoriesRemoved: number;
  recordsPruned: number;
}

export interface CloseOptions {
  /** What to do with containers still running: 'kill' (default), 'wait' for them, or 'leave' them. */
  containers?: 'kill' | 'wait' | 'leave';
  /** With 'kill': SIGTERM, then SIGKILL after this long. Default 10 s. */
  graceMs?: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const OWN_SESSION = readProcStat(process.pid)?.session ?? -1;

export class Launcher {
  readonly options: NormalizedOptions;
  readonly stateDir: string;
  readonly #lock: StateLock;
  readonly #store: Store;
  readonly #registry: ExitRegistry;
  readonly #reaper: Reaper;
  readonly #sweeper: OrphanSweeper;
  readonly #pool: RuntimePool;
  #runtime!: RuntimeSetup;
  /** The runtime binary's name as /proc shows it (comm: at most 15 characters). */
  #runtimeComm = '';
  #defaultBundle: Promise<string> | null = null;
  readonly #inflight = new Set<Promise<unknown>>();
  /** Ids whose start is under way (not yet running or failed). */
  readonly #starting = new Set<string>();
  /** Pending `runtime delete` per container id: a new start of that id waits for it. */
  readonly #deletes = new Map<string, Promise<void>>();
  /** Per live process: how long watching it waited for fds (added to its start's timings). */
  #closing: Promise<void> | null = null;
  /** Aborted by close: starts still queued for a worker are dropped, not started and then killed. */
  readonly #closeController = new AbortController();
  #closed = false;

  private constructor(options: NormalizedOptions, lock: StateLock, store: Store) {
    this.options = options;
    this.stateDir = options.stateDir;
    this.#lock = lock;
    this.#store = store;
    this.#registry = new ExitRegistry(
      store,
      options.logger,
      (statuses) => this.#pool.run<{ failed: number }>({ kind: 'exit-status', statuses }, 'high'),
      (live, exit) => this.#afterExit(live, exit),
    );
    this.#reaper = Reaper.open((exits) => this.#registry.handleExits(exits));
    this.#sweeper = new OrphanSweeper(options.orphanGraceMs, (orphans) => {
      const at = Date.now();
      this.#store.recordOrphans(orphans.map((o) => ({ pid: o.pid, exitCode: o.exitCode, signal: o.signal, at })));
      options.logger.warn({ orphans: orphans.map((o) => o.pid) }, 'reaped untracked zombies');
    }, (stat) => this.#isRuntimeHelper(stat));
    this.#pool = new RuntimePool(options.workers, options.tasksPerWorker, (error) =>
      options.logger.error({ err: error }, 'a worker thread failed'),
    );
  }

  /** Opens a launcher on a state directory; only one may hold a state directory at a time. */
  static async open(options: LauncherOptions = {}): Promise<Launcher> {
    const normalized = normalizeOptions(options);
    normalized.stateDir = ensureStateDir(normalized.stateDir);
    const lock = acquireStateLock(normalized.stateDir);
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
      launcher.#runtime = await setupRuntime(normalized, launcher.#pool);
      launcher.#runtimeComm = basename(launcher.#runtime.path).slice(0, 15);
      store.setRuntime(launcher.#runtime.path, launcher.#runtime.invocation.root);
      launcher.#recover();
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
    const r = this.#runtime;
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
    return this.#start(spec, null);
  }

  /** With a spawn gate (batches), the runtime spawn waits for a slot; the prepare before it does not. */
  async #start(spec: StartSpec, gate: SharedArrayBuffer | null): Promise<Proc> {
    this.#assertOpen();
    const queuedAt = now();
    const start = normalizeStartSpec(spec);
    if (start.signal?.aborted === true) throw new SalvoError('ERR_ABORTED', `start of ${start.id} was aborted`);
    const bundle = start.bundle ?? (await this.defaultBundle());
    const pendingDelete = this.#deletes.get(start.id);
    if (pendingDelete !== undefined) await pendingDelete;
    this.#assertOpen();
    const dir = processDir(this.stateDir, start.id);
    const seq = this.#store.subscribe({
      id: start.id,
      execId: INIT_EXEC_ID,
      dir,
      bundle,
      batchId: start.batchId,
      labels: start.labels,
      at: Date.now(),
    });
    const launch = this.#launch(seq, start, bundle, dir, queuedAt, gate);
    this.#inflight.add(launch);
    this.#starting.add(start.id);
    try {
      return await launch;
    } finally {
      this.#inflight.delete(launch);
      this.#starting.delete(start.id);
    }
  }

  /** The default busybox bundle, built on first use and cached in the state directory. */
  defaultBundle(): Promise<string> {
    this.#defaultBundle ??= ensureBusyboxBundle(this.stateDir).catch((error: unknown) => {
      this.#defaultBundle = null;
      throw error;
    });
    return this.#defaultBundle;
  }

  async #launch(seq: number, start: NormalizedStart, bundle: string, dir: string, queuedAt: number, gate: SharedArrayBuffer | null): Promise<Proc> {
    let io: ProcessIo = { prepared: false, readers: null, console: null };
    let result: StartResult;
    const closing = this.#closeController.signal;
    const queueSignal = start.signal === null ? closing : AbortSignal.any([start.signal, closing]);
    try {
      // Fifos or a console socket must exist (opened by us) before the runtime is spawned.
      io = await openProcessIo(this.#pool, dir, start.stdio, start.override?.terminal === true, this.options.startTimeoutMs, queueSignal);
      result = await this.#pool.run<StartResult>(
        {
          kind: 'start',
          runtime: this.#runtime.invocation,
          id: start.id,
          dir,
          bundle,
          override: start.override,
          stdio: start.stdio,
          prepared: io.prepared,
          gate,
          startMode: start.startMode,
          noPivot: start.noPivot,
          noNewKeyring: start.noNewKeyring,
          stdin: start.stdin,
          consoleSocket: io.console?.path ?? null,
          restore: restorePlan(start, bundle),
          timeoutMs: this.options.startTimeoutMs,
          queuedAt,
        },
        'normal',
        queueSignal,
      );
    } catch (error) {
      let failure = error instanceof SalvoError ? error : new SalvoError('ERR_RUNTIME_FAILED', String(error), { cause: error });
      if (failure.code === 'ERR_ABORTED' && start.signal?.aborted !== true && this.#closing !== null) {
        failure = new SalvoError('ERR_LAUNCHER_CLOSED', `start of ${start.id} was dropped: the launcher closed before a worker took it`);
      }
      this.#store.markFailed({ seq, runtimeExitCode: null, errorCode: failure.code, errorMessage: failure.message, at: Date.now() });
      closeProcessIo(io);
      throw failure;
    } finally {
      releaseKeepAlive(io);
    }

    if (!result.ok) {
      this.#store.markFailed({
        seq,
        runtimeExitCode: result.runtimeExitCode,
        errorCode: result.error.code,
        errorMessage: result.error.message,
        at: Date.now(),
      });
      closeProcessIo(io);
      const error = errorFromPlain(result.error, result.runtimeExitCode);
      Object.assign(error.details, { id: start.id, timings: result.timings });
      throw error;
    }

    const { live, watched } = this.#track(seq, start.id, INIT_EXEC_ID, result.pid, result.pidStartTime, dir, false);
    const watchWaitedMs = await watched;
    const proc: Proc = {
      id: start.id,
      execId: INIT_EXEC_ID,
      pid: result.pid,
      dir,
      timings: { ...result.timings, waitedMs: result.timings.waitedMs + watchWaitedMs },
      exited: live.exited,
      ...outputStreams(io),
      terminal: await attachTerminal(io, live),
    };
    if (start.signal?.aborted === true) {
      await this.kill(start.id, 'SIGKILL').catch(() => undefined);
      throw new SalvoError('ERR_ABORTED', `start of ${start.id} was aborted; the container was killed`, {
        details: { id: start.id, exited: live.exited },
      });
    }
    return proc;
  }

  /**
   * A zombie left by the runtime itself (crun's detach fork): named like the runtime binary and
   * in a session of its own. A child this process spawned by name stays in our session.
   */
  #isRuntimeHelper(stat: ProcStat): boolean {
    return stat.comm === this.#runtimeComm && stat.session !== OWN_SESSION;
  }

  /**
   * DESIGN §3 step 4: the record says running, the pidfd joins the epoll set, a pass runs at once.
   * `watched` resolves with the ms spent waiting for fds to watch it (EMFILE), for the start's timings.
   */
  #track(
    seq: number,
    id: string,
    execId: string,
    pid: number,
    pidStartTime: number,
    dir: string,
    adopted: boolean,
  ): { live: LiveProcess; watched: Promise<number> } {
    const startedAt = Date.now();
    if (!adopted) this.#store.markRunning(seq, pid, pidStartTime, startedAt);
    const { exited, settle } = deferredExit();
    const live: LiveProcess = { seq, id, execId, pid, dir, startedAt, exitFd: null, adopted, exited, settle };
    this.#registry.add(live);
    const openingExitFifo = this.#openExitFifo(live);
    const watching = this.#reaper.trackPatiently(pid, adopted ? pidStartTime : null).catch((error: unknown) => {
      // ESRCH: it is gone and was not ours to reap; its status cannot be known.
      this.options.logger.warn({ err: error, id, initPid: pid }, 'tracked process vanished');
      this.#registry.handleExits([unknownExit(pid)]);
      return 0;
    });
    return { live, watched: Promise.all([openingExitFifo, watching]).then(([a, b]) => a + b) };
  }

  /**
   * Holds the exit fifo's writer while the process lives, so that a watcher sees EOF at exit.
   * O_RDWR never blocks on a fifo. Out of fds, waits (the first try is synchronous); resolves with the wait.
   */
  async #openExitFifo(live: LiveProcess): Promise<number> {
    const patience = patienceFor(0);
    const stillLive = (): boolean => this.#registry.byPid(live.pid) === live;
    try {
      const fd = await patiently(
        'opening the exit fifo',
        () => (stillLive() ? openSync(join(live.dir, 'exit'), constants.O_RDWR | constants.O_NONBLOCK) : null),
        patience,
      );
      if (fd !== null && stillLive()) live.exitFd = fd;
      else if (fd !== null) closeSync(fd); // it exited while we waited
    } catch (error) {
      this.options.logger.warn({ err: error, id: live.id }, 'cannot open the exit fifo');
    }
    return patience.waitedMs;
  }

  /** A runtime delete in flight: a new start of the id and close() wait for it; it forgets itself when done. */
  #noteDelete(id: string, deletion: Promise<void>): void {
    const noted: Promise<void> = deletion.finally(() => {
      if (this.#deletes.get(id) === noted) this.#deletes.delete(id);
    });
    this.#deletes.set(id, noted);
  }

  /** DESIGN §3 step 6: the runtime forgets the container; the record stays as history. */
  #afterExit(live: LiveProcess, exit: Exit): void {
    if (live.execId !== INIT_EXEC_ID || !this.options.deleteAfterExit) return;
    const deletion = this.#pool
      .run<CommandResult>(
        {
          kind: 'delete',
          runtime: this.#runtime.invocation,
          id: live.id,
          force: exit.signal !== null || exit.state === 'lost',
          logFile: join(live.dir, 'delete.log.json'),
        },
        'low',
      )
      .then(
        (result) => {
          if (!result.ok) this.options.logger.warn({ id: live.id, error: result.error }, 'runtime delete failed');
        },
        (error: unknown) => this.options.logger.warn({ err: error, id: live.id }, 'runtime delete failed'),
      );
    this.#noteDelete(live.id, deletion);
  }

  /**
   * Sends a signal to a running container's init (or all its processes) through the runtime; with
   * `execId`, to that exec'd process (by its pid: tracked and unreaped, it cannot have been reused).
   */
  async kill(id: string, signal: string | number = 'SIGTERM', options: { all?: boolean; execId?: string } = {}): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    const sig = normalizeSignal(signal);
    if (options.execId !== undefined && options.execId !== INIT_EXEC_ID) {
      const exec = this.#registry.byId(id, validateId(options.execId, 'exec id'));
      if (exec === undefined) throw new SalvoError('ERR_CONTAINER_STOPPED', `exec ${options.execId} of container ${id} is not running`);
      try {
        process.kill(exec.pid, /^\d+$/.test(sig) ? Number(sig) : sig);
      } catch (error) {
        throw new SalvoError('ERR_INVALID_SPEC', `cannot send ${sig} to exec ${options.execId}: ${(error as Error).message}`, { cause: error });
      }
      return;
    }
    assertLive({ store: this.#store, registry: this.#registry }, id);
    await this.#runtimeCommand(id, killArgs(id, sig, options), 'high');
  }

  /**
   * Runs a process in a running container (`exec -d`), tracked like an init: its own record,
   * its exit recorded exactly once. Rejects with ERR_CONTAINER_STOPPED when the container is
   * not running, or the runtime's error (ERR_RUNTIME_FAILED) when the exec fails.
   */
  async exec(id: string, spec: ExecSpec): Promise<Proc> {
    this.#assertOpen();
    const exec = execInContainer(
      {
        stateDir: this.stateDir,
        pool: this.#pool,
        runtime: this.#runtime.invocation,
        store: this.#store,
        registry: this.#registry,
        timeoutMs: this.options.startTimeoutMs,
        track: (seq, cid, execId, pid, pidStartTime, dir) => this.#track(seq, cid, execId, pid, pidStartTime, dir, false).live,
      },
      id,
      spec,
    );
    this.#inflight.add(exec);
    try {
      return await exec;
    } finally {
      this.#inflight.delete(exec);
    }
  }

  /**
   * Checkpoints a running container with CRIU into `<bundle>/checkpoints/<name>` (or `dir`) and
   * stores its CRIU flags there, so that `start({ checkpoint })` restores with the same ones.
   */
  async checkpoint(id: string, spec: CheckpointSpec): Promise<CheckpointResult> {
    this.#assertOpen();
    const context = { stateDir: this.stateDir, pool: this.#pool, runtime: this.#runtime.invocation, store: this.#store, registry: this.#registry };
    return checkpointContainer(context, id, spec);
  }

  /** Freezes every process of a running container (`runtime pause`). */
  async pause(id: string): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    assertLive({ store: this.#store, registry: this.#registry }, id);
    await this.#runtimeCommand(id, pauseArgs(id), 'high');
  }

  /** Thaws a paused container (`runtime resume`). */
  async resume(id: string): Promise<void> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    assertLive({ store: this.#store, registry: this.#registry }, id);
    await this.#runtimeCommand(id, resumeArgs(id), 'high');
  }

  /** The runtime's view of a container (`runtime state`, parsed): status, pid, bundle… */
  async state(id: string): Promise<RuntimeState> {
    this.#assertNotClosed();
    validateId(id, 'container id');
    if (this.#store.get(id) === undefined) throw new SalvoError('ERR_NOT_FOUND', `no container ${id}`);
    const result = await this.#runtimeCommand(id, stateArgs(id), 'normal');
    try {
      return JSON.parse(result.stdout) as RuntimeState;
    } catch (error) {
      throw new SalvoError('ERR_RUNTIME_FAILED', `runtime state ${id} printed no JSON: ${result.stdout.slice(0, 200)}`, { cause: error });
    }
  }

  async #runtimeCommand(id: string, args: string[], priority: Priority): Promise<CommandResult> {
    const result = await this.#pool.run<CommandResult>(
      {
        kind: 'command',
        runtime: this.#runtime.invocation,
        args,
        logFile: id === '' ? join(this.stateDir, 'runtime.log.json') : join(processDir(this.stateDir, id), `${args[0]}.log.json`),
        timeoutMs: 30_000,
      },
      priority,
    );
    if (!result.ok && result.error !== null) throw errorFromPlain(result.error, result.runtimeExitCode);
    return result;
  }

  /**
   * Runs jobs from an iterable or async iterable and yields a JobResult for each as it finishes
   * (DESIGN §8). A job's own failure is a result, never an exception.
   */
  batch(jobs: Iterable<JobSpec> | AsyncIterable<JobSpec>, options: BatchOptions = {}): AsyncGenerator<JobResult> {
    this.#assertOpen();
    return runBatch(
      {
        start: (spec, gate) => this.#start(spec, gate),
        kill: (id, signal, opts) => this.kill(id, signal, opts),
        hasInBatch: (batchId, id) => this.#store.hasInBatch(batchId, id),
        processDir: (id) => processDir(this.stateDir, id),
        capacity: this.#pool.capacity,
      },
      jobs,
      options,
    );
  }

  /** Containers the runtime knows under salvo's --root (id and status). */
  async runtimeContainers(): Promise<{ id: string; status: string; pid: number }[]> {
    const result = await this.#runtimeCommand('', listArgs(), 'normal');
    const parsed = JSON.parse(result.stdout.trim() || 'null') as { id: string; status: string; pid: number }[] | null;
    return (parsed ?? []).map(({ id, status, pid }) => ({ id, status, pid }));
  }

  /**
   * Deletes finished containers' runtime state and process directories and prunes their
   * records when they ended more than `olderThanMs` ago. Never touches a running container.
   */
  async gc(options: { olderThanMs?: number } = {}): Promise<GcResult> {
    this.#assertOpen();
    const olderThanMs = options.olderThanMs ?? 0;
    if (!isMilliseconds(olderThanMs)) {
      throw new SalvoError('ERR_INVALID_OPTION', `gc option olderThanMs must be a number of ms ≥ 0, got ${String(olderThanMs)}`);
    }
    const cutoff = Date.now() - olderThanMs;
    // A container's exec'd processes may outlive its init (host pid namespace): their files stay too.
    const live = new Set(this.#registry.all().map((l) => l.id));
    const busy = (id: string): boolean => live.has(id) || this.#starting.has(id);
    const finishedBefore = (id: string): boolean => {
      const record = this.#store.get(id);
      return record === undefined || (record.state !== 'running' && record.state !== 'subscribed' && (record.exitedAt ?? 0) <= cutoff);
    };
    const result: GcResult = { containersDeleted: [], directoriesRemoved: 0, recordsPruned: 0 };
    const doomed = (await this.runtimeContainers()).filter(
      (c) => c.status !== 'running' && c.status !== 'paused' && !busy(c.id) && finishedBefore(c.id),
    );
    // The pool bounds how many deletes run at once.
    await Promise.all(
      doomed.map(async (c) => {
        await this.#runtimeCommand(c.id, deleteArgs(c.id, { force: true }), 'normal');
        result.containersDeleted.push(c.id);
      }),
    );
    const containers = join(this.stateDir, 'containers');
    for (const id of readdirSync(containers)) {
      if (busy(id) || !finishedBefore(id)) continue;
      rmSync(join(containers, id), { recursive: true, force: true });
      result.directoriesRemoved++;
    }
    result.recordsPruned = this.#store.prune(cutoff);
    return result;
  }

  /** The newest record of a container (or of one of its execs). */
  get(id: string, execId = INIT_EXEC_ID): ProcessRecord | undefined {
    this.#assertStoreOpen();
    return this.#store.get(id, execId);
  }

  list(filter: ListFilter = {}): ProcessRecord[] {
    this.#assertStoreOpen();
    return this.#store.list(filter);
  }

  /** Reap-path measurements: per exit, from the reap pass noticing it to its committed row. */
  get reapLatency(): LatencyHistogram {
    return this.#reaper.passLatency;
  }

  /** Reap-path cost: passes, exits, and the time split between waitid and the exit handler. */
  get reapCost(): PassCost {
    return this.#reaper.passCost;
  }

  /** Number of processes being watched right now. */
  get liveCount(): number {
    return this.#registry.size;
  }

  /** Records left by a launcher that died: adopt what still runs, mark the rest lost (§7). */
  #recover(): void {
    const unresolved = this.#store.unresolved();
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
        if (record.state === 'subscribed') this.#store.markRunning(record.seq, action.pid, action.pidStartTime, startedAt);
        this.#track(record.seq, record.id, record.execId, action.pid, action.pidStartTime, record.dir, true);
        this.options.logger.info({ id: record.id, initPid: action.pid }, 'adopted a process left by an earlier launcher');
      } else {
        this.#store.recordExits([
          { seq: record.seq, state: 'lost', exitCode: 255, signal: null, userUs: null, systemUs: null, maxRssKb: null, at: Date.now() },
        ]);
        this.options.logger.warn({ id: record.id, reason: action.reason }, 'record resolved as lost');
        if (record.execId === INIT_EXEC_ID) {
          // Awaited by close and by a new start of this id, like the delete after an exit.
          this.#noteDelete(
            record.id,
            this.#runtimeCommand(record.id, deleteArgs(record.id, { force: true }), 'low').then(() => undefined, () => undefined),
          );
        }
      }
    }
  }

  /**
   * Stops new work, settles in-flight starts, then kills (default), waits for or leaves the
   * running containers; records stay. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#close(options);
      this.#closeController.abort();
    }
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    const mode = options.containers ?? 'kill';
    if (mode !== 'kill' && mode !== 'wait' && mode !== 'leave') {
      throw new SalvoError('ERR_INVALID_OPTION', `close option containers must be kill, wait or leave, got ${String(mode)}`);
    }
    const graceMs = options.graceMs ?? 10_000;
    await Promise.allSettled([...this.#inflight]);
    if (mode === 'wait') await Promise.all(this.#registry.all().map((l) => l.exited));
    if (mode === 'kill') await this.#stopAll(this.#registry.all(), graceMs);
    await this.#registry.settled();
    await Promise.allSettled([...this.#deletes.values()]);
    await this.#shutdown();
  }

  /**
   * SIGTERM to every container (adopted ones too), SIGKILL after the grace period; then our own
   * children that the runtime could not stop get SIGKILL directly (a pid we track and have not
   * reaped cannot have been reused). Resolves once our children are reaped; an adopted process
   * that outlives all this is left running, for the next launcher to adopt.
   */
  async #stopAll(live: LiveProcess[], graceMs: number): Promise<void> {
    if (live.length === 0) return;
    const running = (l: LiveProcess): boolean => this.#registry.byPid(l.pid) === l;
    const inits = live.filter((l) => l.execId === INIT_EXEC_ID);
    await Promise.allSettled(inits.map((l) => this.#runtimeCommand(l.id, killArgs(l.id, 'SIGTERM', { all: true }), 'high')));
    if (await allExitWithin(live, graceMs)) return;
    const remaining = inits.filter(running);
    await Promise.allSettled(remaining.map((l) => this.#runtimeCommand(l.id, killArgs(l.id, 'SIGKILL', { all: true }), 'high')));
    if (await allExitWithin(live, KILL_CONFIRM_MS)) return;
    const own = live.filter((l) => !l.adopted);
    for (const l of own.filter(running)) {
      this.options.logger.warn({ id: l.id, initPid: l.pid }, 'the runtime did not stop it: sending SIGKILL directly');
      try {
        process.kill(l.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await Promise.all(own.map((l) => l.exited));
    for (const l of live.filter(running)) this.options.logger.warn({ id: l.id, initPid: l.pid }, 'an adopted process outlived close; left running');
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    // Processes left running ('leave'): nobody watches them now, so the exit fifo's writer goes
    // too; a watcher sees EOF without an exitStatus, as after a launcher crash.
    for (const live of this.#registry.all()) {
      if (live.exitFd !== null) closeSync(live.exitFd);
      live.exitFd = null;
    }
    // The reaper before the pool: no exit may arrive once its exitStatus cannot be written.
    this.#reaper.close();
    // Zombies still in their grace period are reaped now: none is left behind, and no sweep
    // timer outlives the store it reports to.
    await this.#sweeper.drain();
    await this.#pool.destroy();
    await this.#runtime?.namespace?.close();
    this.#store.close();
    this.#lock.release();
  }

  #assertNotClosed(): void {
    if (this.#closing !== null) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the launcher is closing and takes no new work');
  }

  #assertOpen(): void {
    this.#assertNotClosed();
  }

  #assertStoreOpen(): void {
    if (this.#closed) throw new SalvoError('ERR_LAUNCHER_CLOSED', 'the launcher is closed: its store is no longer open');
  }
}

/** Where a restore takes its images: `<bundle>/checkpoints/<name>` unless a directory is given. */
function restorePlan(start: NormalizedStart, bundle: string): RestorePlan | null {
  const ref = start.checkpoint;
  if (ref === null) return null;
  return { imagePath: ref.dir ?? join(bundle, 'checkpoints', ref.name as string), workPath: ref.workDir };
}

function readBootId(): string | null {
  return readFileSafe('/proc/sys/kernel/random/boot_id').trim() || null;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// After SIGKILL through the runtime, how long close waits before signalling its children itself.
const KILL_CONFIRM_MS = 2000;

/** True when every one of these processes has exited within ms. */
async function allExitWithin(live: readonly LiveProcess[], ms: number): Promise<boolean> {
  const all = Promise.all(live.map((l) => l.exited)).then(() => true);
  return Promise.race([all, delay(ms).then(() => false)]);
}

