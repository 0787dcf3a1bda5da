// Batch progress on stderr: a redrawn bar on a terminal, a plain line every few seconds elsewhere.

export interface ProgressCounts {
  done: number;
  running: number;
  ok: number;
  /** Did not succeed, canceled ones apart. */
  failed: number;
  /** Never ran to an end because the batch was stopped; shown when there are any. */
  canceled?: number;
}

/** The stream part this needs (process.stderr fits), so tests can pass a plain object. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  destroyed?: boolean;
  writableEnded?: boolean;
}

/** Injected by tests; the handles are unref'd when they have unref(). */
export interface ProgressTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Jobs expected; null when unknown (input from a pipe): no bar, no eta. */
  total: number | null;
  env?: NodeJS.ProcessEnv;
  /** Between plain lines when not drawing a bar. Default 5000 ms. */
  intervalMs?: number;
  now?: () => number;
  timers?: ProgressTimers;
}

export type ProgressMode = 'bar' | 'lines';

/** At most ~10 redraws a second: more is flicker and CPU for nobody. */
export const REDRAW_MS = 100;
/** The bar is redrawn this often even without updates, so rate and eta stay current. */
export const BAR_REFRESH_MS = 1000;
const DEFAULT_INTERVAL_MS = 5000;
const CLEAR_LINE = '\r\x1b[2K';

const realTimers: ProgressTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class Progress {
  readonly mode: ProgressMode;
  readonly #stream: ProgressStream;
  readonly #total: number | null;
  readonly #now: () => number;
  readonly #timers: ProgressTimers;
  readonly #startedAt: number;
  #counts: ProgressCounts | null = null;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #pendingDraw: unknown = null;
  #ticker: unknown;
  #barShown = false;
  #stopped = false;

  constructor(options: ProgressOptions) {
    const env = options.env ?? process.env;
    this.#stream = options.stream;
    this.#total = options.total;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? realTimers;
    this.#startedAt = this.#now();
    // A bar in a CI log is a wall of \r-joined frames; CI gets plain lines.
    this.mode = options.stream.isTTY === true && env.CI === undefined ? 'bar' : 'lines';
    const every = this.mode === 'bar' ? BAR_REFRESH_MS : (options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#ticker = unref(this.#timers.setInterval(() => this.#tick(), every));
  }

  update(counts: ProgressCounts): void {
    if (this.#stopped) return;
    this.#counts = { ...counts };
    // Plain lines only come from the ticker.
    if (this.mode === 'bar') this.#scheduleDraw();
  }

  /** Writes one message line without tearing the bar: clear it, write, draw it again. */
  log(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (this.mode === 'bar' && this.#barShown && !this.#stopped && this.#counts !== null) {
      this.#cancelPendingDraw();
      this.#write(`${CLEAR_LINE}${text}${this.#barLine(this.#counts)}`);
      this.#lastDrawAt = this.#now();
    } else {
      this.#write(text);
    }
  }

  /**
   * A data line for another stream (a job's line on stdout): the bar steps aside on its own stream
   * and comes back below, so the line lands where the docs say whether or not a bar is shown.
   */
  print(line: string, to: ProgressStream): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (this.mode === 'bar' && this.#barShown && !this.#stopped && this.#counts !== null) {
      this.#cancelPendingDraw();
      this.#write(CLEAR_LINE);
      to.write(text);
      this.#write(this.#barLine(this.#counts));
      this.#lastDrawAt = this.#now();
    } else {
      to.write(text);
    }
  }

  /** Final render and newline; later calls do nothing. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timers.clearInterval(this.#ticker);
    this.#cancelPendingDraw();
    if (this.#counts === null) return;
    if (this.mode === 'bar') this.#write(`${CLEAR_LINE}${this.#barLine(this.#counts)}\n`);
    else this.#write(`${this.#plainLine(this.#counts)}\n`);
  }

  #scheduleDraw(): void {
    const wait = this.#lastDrawAt + REDRAW_MS - this.#now();
    if (wait <= 0) {
      this.#draw();
      return;
    }
    // One trailing draw carries whatever the latest counts are by then.
    if (this.#pendingDraw !== null) return;
    this.#pendingDraw = unref(
      this.#timers.setTimeout(() => {
        this.#pendingDraw = null;
        this.#draw();
      }, wait),
    );
  }

  #tick(): void {
    if (this.#stopped || this.#counts === null) return;
    // Through the throttle, so the refresh never adds a frame to a flood of updates.
    if (this.mode === 'bar') this.#scheduleDraw();
    else this.#write(`${this.#plainLine(this.#counts)}\n`);
  }

  #draw(): void {
    if (this.#stopped || this.#counts === null) return;
    // This frame already shows the latest counts; a queued one would only repeat it.
    this.#cancelPendingDraw();
    this.#write(`${CLEAR_LINE}${this.#barLine(this.#counts)}`);
    this.#lastDrawAt = this.#now();
    this.#barShown = true;
  }

  #cancelPendingDraw(): void {
    if (this.#pendingDraw !== null) this.#timers.clearTimeout(this.#pendingDraw);
    this.#pendingDraw = null;
  }

  /** `[#####-----] 120/300  ok 110  failed 10  running 8  9.5/s  eta 20s`, fitted to the terminal. */
  #barLine(counts: ProgressCounts): string {
    const rate = this.#rate(counts);
    const total = this.#total;
    const parts = [
      total === null ? `${counts.done} done` : `${counts.done}/${total}`,
      `ok ${counts.ok}`,
      `failed ${counts.failed}`,
      ...((counts.canceled ?? 0) > 0 ? [`canceled ${counts.canceled}`] : []),
      `running ${counts.running}`,
    ];
    if (rate !== null) parts.push(`${rate.toFixed(1)}/s`);
    if (rate !== null && rate > 0 && total !== null && counts.done < total) {
      parts.push(`eta ${formatDuration((total - counts.done) / rate)}`);
    }
    const text = parts.join('  ');
    // The last column is left free: writing into it wraps on some terminals and breaks the \r redraw.
    const columns = (this.#stream.columns ?? 0) > 0 ? this.#stream.columns! : 80;
    const barWidth = Math.min(60, columns - 1 - text.length - 3);
    if (total === null || barWidth < 10) return text.slice(0, columns - 1);
    const fraction = total === 0 ? 1 : Math.min(1, counts.done / total);
    const filled = Math.round(barWidth * fraction);
    return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text}`;
  }

  /** `salvo: 120/300 done, 8 running, 110 ok, 10 failed, 9.5/s`. */
  #plainLine(counts: ProgressCounts): string {
    const done = this.#total === null ? `${counts.done}` : `${counts.done}/${this.#total}`;
    const rate = this.#rate(counts);
    const tail = rate === null ? '' : `, ${rate.toFixed(1)}/s`;
    const canceled = (counts.canceled ?? 0) > 0 ? `, ${counts.canceled} canceled` : '';
    return `salvo: ${done} done, ${counts.running} running, ${counts.ok} ok, ${counts.failed} failed${canceled}${tail}`;
  }

  /** Jobs per second since the start; null in the first second, when it would be noise. */
  #rate(counts: ProgressCounts): number | null {
    const elapsedMs = this.#now() - this.#startedAt;
    return elapsedMs < 1000 ? null : counts.done / (elapsedMs / 1000);
  }

  #write(chunk: string): void {
    const stream = this.#stream;
    // Writing after end would emit an 'error' nobody listens to; progress is never worth a crash.
    if (stream.destroyed === true || stream.writableEnded === true) return;
    try {
      stream.write(chunk);
    } catch {
      // A closed or broken stderr loses the progress, not the batch.
    }
  }
}

/** `20s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function unref(handle: unknown): unknown {
  (handle as { unref?: () => void } | null)?.unref?.();
  return handle;
}
