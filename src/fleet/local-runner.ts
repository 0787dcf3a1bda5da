// One long launcher.batch per worker, fed job by job: salvo's backpressure (starts in flight,
// jobs alive), timeouts and stop sequence apply to queue jobs as to a local batch.
import type { Launcher } from '../launcher/launcher.js';
import type { JobResult, JobSpec } from '../types.js';

export interface LocalRunnerOptions {
  batchId: string;
  /** Runtime starts in flight at once. */
  concurrency: number;
  /** Jobs alive at once. */
  maxRunning: number;
  /** Per-job timeout when the spec has none; 0 = none. */
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL when a job is stopped. */
  graceMs: number;
}

interface Entry {
  spec: JobSpec & { id: string };
  /** null: the job was not run (the runner was stopped before it took the job). */
  settle: (result: JobResult | null) => void;
  fail: (error: unknown) => void;
}

export class LocalRunner {
  readonly #queue: Entry[] = [];
  /** By batch index: the n-th job the batch took is the n-th entry handed to it. */
  readonly #taken = new Map<number, Entry>();
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  #yielded = 0;
  #ended = false;
  #failure: unknown = null;
  #wake: (() => void) | null = null;

  constructor(launcher: Launcher, options: LocalRunnerOptions) {
    this.#done = this.#consume(launcher, options);
  }

  /** Runs one job to its result; null when the runner was stopped before the job started. */
  run(spec: JobSpec & { id: string }): Promise<JobResult | null> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#ended || this.#abort.signal.aborted) return Promise.resolve(null);
    return new Promise((settle, fail) => {
      this.#queue.push({ spec, settle, fail });
      this.#notify();
    });
  }

  /** Ids of the containers of jobs taken and not finished. */
  get runningIds(): string[] {
    return [...this.#taken.values()].map((entry) => entry.spec.id);
  }

  /** Stops every running job (SIGTERM, grace, SIGKILL) and runs nothing more; their results still come. */
  stop(): void {
    this.#abort.abort();
    this.#notify();
  }

  /** No more jobs: waits for the ones taken, then ends the batch. */
  async end(): Promise<void> {
    this.#ended = true;
    this.#notify();
    await this.#done;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async *#input(): AsyncGenerator<JobSpec> {
    for (;;) {
      const entry = this.#queue.shift();
      if (entry !== undefined) {
        this.#taken.set(this.#yielded++, entry);
        yield entry.spec;
        continue;
      }
      if (this.#ended || this.#abort.signal.aborted) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async #consume(launcher: Launcher, options: LocalRunnerOptions): Promise<void> {
    try {
      const results = launcher.batch(this.#input(), { ...options, signal: this.#abort.signal, onAbort: 'stop' });
      for await (const result of results) {
        const entry = this.#taken.get(result.index);
        this.#taken.delete(result.index);
        entry?.settle(result);
      }
    } catch (error) {
      this.#failure = error;
      for (const entry of this.#taken.values()) entry.fail(error);
      this.#taken.clear();
    } finally {
      // Handed in but never taken by the batch (it was stopped): not run.
      for (const entry of this.#queue.splice(0)) entry.settle(null);
      for (const entry of this.#taken.values()) entry.settle(null);
      this.#taken.clear();
    }
  }
}
