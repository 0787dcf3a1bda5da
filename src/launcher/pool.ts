// The worker pool: Piscina threads that run runtime commands, behind a small priority queue
// of our own so that a queued task can be aborted (Piscina would terminate a running worker)
// and cancellations (kill) overtake starts, which overtake deletes.
import { Piscina } from 'piscina';
import { SalvoError } from '../errors.js';
import type { WorkerTask } from '../types.js';

export type Priority = 'high' | 'normal' | 'low';

interface Queued {
  task: WorkerTask;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
  enqueuedAt: number;
}

// A delete waiting this long is served like a start, so a steady stream of starts never starves it.
const LOW_PRIORITY_MAX_WAIT_MS = 1000;
const WORKER_FILE = new URL('../../workers/runtime-worker.js', import.meta.url).href;

export class RuntimePool {
  readonly #piscina: Piscina;
  readonly capacity: number;
  #running = 0;
  readonly #queues: Record<Priority, Queued[]> = { high: [], normal: [], low: [] };
  #destroyed = false;

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

  run<T>(task: WorkerTask, priority: Priority = 'normal', signal: AbortSignal | null = null): Promise<T> {
    if (this.#destroyed) return Promise.reject(new SalvoError('ERR_LAUNCHER_CLOSED', 'the worker pool is closed'));
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const entry: Queued = {
        task,
        resolve: resolve as (value: unknown) => void,
        reject,
        signal,
        onAbort: null,
        enqueuedAt: Date.now(),
      };
      if (signal !== null) {
        entry.onAbort = () => {
          const queue = this.#queues[priority];
          const index = queue.indexOf(entry);
          if (index >= 0) {
            queue.splice(index, 1);
            reject(abortError(signal));
          }
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#queues[priority].push(entry);
      this.#drain();
    });
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
      if (entry.onAbort !== null) entry.signal?.removeEventListener('abort', entry.onAbort);
      this.#running++;
      this.#piscina.run(entry.task).then(
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
