// The worker pool: Piscina threads that run runtime commands, behind a small priority queue
// of our own so that a queued task can be aborted (Piscina would terminate a running worker)
// and cancellations (kill) overtake starts, which overtake deletes.
import { Piscina } from 'piscina';
import { SalvoError } from '../errors.js';
import type { ResultOf, TaskKind, TaskOf, WorkerMessage } from '../worker/protocol.js';

export type Priority = 'high' | 'normal' | 'low';

interface Queued {
  message: WorkerMessage;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | null;
  enqueuedAt: number;
}

// A delete waiting this long is served like a start, so a steady stream of starts never starves it.
const LOW_PRIORITY_MAX_WAIT_MS = 1000;
const WORKER_FILE = new URL('../worker/runtime-worker.js', import.meta.url).href;

export class RuntimePool {
  readonly #piscina: Piscina;
  readonly capacity: number;
  #running = 0;
  readonly #queues: Record<Priority, Queued[]> = { high: [], normal: [], low: [] };
  #destroyed = false;
  /** Per abort signal: the queued tasks it drops when it fires. */
  readonly #waitingOn = new WeakMap<AbortSignal, Set<Queued>>();

  constructor(workers: number, tasksPerWorker: number, onWorkerError: (error: unknown) => void = () => undefined) {
    this.capacity = workers * tasksPerWorker;
    this.#piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: tasksPerWorker,
      // Threads must not churn: a spawned runtime's parent-death signal follows its thread.
      idleTimeout: 2 ** 31 - 1,
      // An idle worker keeps its event loop running (children it awaits still get reaped).
      atomics: 'async',
      recordTiming: false,
      // A small young generation keeps worker heaps, and so the cost of every fork(), low.
      resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.SALVO_YOUNG_MB ?? 4) },
    });
    // A worker that dies outside a task (or cannot be restarted: EMFILE) is reported, never fatal.
    this.#piscina.on('error', onWorkerError);
  }

  /** Tasks waiting for a slot, and tasks running in workers. */
  get stats(): { queued: number; running: number } {
    const q = this.#queues;
    return { queued: q.high.length + q.normal.length + q.low.length, running: this.#running };
  }

  /** Runs one task of the worker protocol; its result type follows from its kind. */
  run<K extends TaskKind>(kind: K, task: TaskOf<K>, priority: Priority = 'normal', signal: AbortSignal | null = null): Promise<ResultOf<K>> {
    if (this.#destroyed) return Promise.reject(new SalvoError('ERR_LAUNCHER_CLOSED', 'the worker pool is closed'));
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<ResultOf<K>>((resolve, reject) => {
      const entry: Queued = {
        message: { kind, task } as WorkerMessage,
        resolve: resolve as (value: unknown) => void,
        reject,
        signal,
        enqueuedAt: Date.now(),
      };
      if (signal !== null) this.#watchAbort(signal).add(entry);
      this.#queues[priority].push(entry);
      this.#drain();
    });
  }

  /**
   * One 'abort' listener per signal however many tasks queue on it (a batch queues hundreds on
   * the launcher's close signal: a listener each would pass Node's limit of ten and warn).
   */
  #watchAbort(signal: AbortSignal): Set<Queued> {
    let waiting = this.#waitingOn.get(signal);
    if (waiting === undefined) {
      const entries = new Set<Queued>();
      waiting = entries;
      this.#waitingOn.set(signal, entries);
      signal.addEventListener(
        'abort',
        () => {
          this.#waitingOn.delete(signal);
          for (const entry of entries) this.#dropQueued(entry, signal);
        },
        { once: true },
      );
    }
    return waiting;
  }

  #dropQueued(entry: Queued, signal: AbortSignal): void {
    for (const queue of Object.values(this.#queues)) {
      const index = queue.indexOf(entry);
      if (index < 0) continue;
      queue.splice(index, 1);
      entry.reject(abortError(signal));
      return;
    }
  }

  #next(): Queued | undefined {
    const { high, normal, low } = this.#queues;
    if (high.length > 0) return high.shift();
    const oldLow = low[0];
    if (oldLow !== undefined && (normal.length === 0 || Date.now() - oldLow.enqueuedAt > LOW_PRIORITY_MAX_WAIT_MS)) {
      return low.shift();
    }
    return normal.shift();
  }

  #drain(): void {
    while (this.#running < this.capacity) {
      const entry = this.#next();
      if (entry === undefined) return;
      if (entry.signal !== null) this.#waitingOn.get(entry.signal)?.delete(entry);
      this.#running++;
      this.#piscina.run(entry.message).then(
        (value) => this.#settle(entry.resolve, value),
        (error) => this.#settle(entry.reject, error),
      );
    }
  }

  #settle(callback: (value: unknown) => void, value: unknown): void {
    this.#running--;
    callback(value);
    this.#drain();
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const queue of Object.values(this.#queues)) {
      for (const entry of queue.splice(0)) entry.reject(new SalvoError('ERR_LAUNCHER_CLOSED', 'the worker pool closed'));
    }
    await this.#piscina.destroy();
  }
}

function abortError(signal: AbortSignal): SalvoError {
  return new SalvoError('ERR_ABORTED', 'the operation was aborted', { cause: signal.reason });
}
