// A client of a state directory's serving launcher with the Launcher's public methods (async
// where the Launcher reads its store synchronously). Foreground output is read from the process's
// fifos by this process, not relayed by the server.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SalvoError } from '../errors.js';
import { openFifoReader, type FifoReader } from '../io/fifo.js';
import type { Terminal } from '../io/terminal.js';
import type { GcResult, Proc, RuntimeInfo } from '../launcher/launcher.js';
import type { BatchOptions, ExecSpec, Exit, JobResult, JobSpec, ProcessRecord, RecordState, RuntimeState, StartSpec } from '../types.js';
import type { ClientConsole } from './client-console.js';
import { SocketHttp } from './http.js';
import { errorFromWire, type PlainError } from './wire.js';

export interface ServerInfo {
  pid: number;
  stateDir: string;
  runtime: RuntimeInfo;
}

interface LaunchEvent {
  event: 'fifos' | 'started' | 'exited' | 'error';
  token?: string;
  stdout?: string;
  stderr?: string;
  proc?: Omit<Proc, 'exited' | 'stdout' | 'stderr' | 'terminal'>;
  exit?: Exit;
  error?: PlainError;
}

export class LauncherClient {
  readonly stateDir: string;
  readonly info: ServerInfo;
  readonly #http: SocketHttp;
  #closed = false;

  constructor(http: SocketHttp, info: ServerInfo) {
    this.#http = http;
    this.info = info;
    this.stateDir = info.stateDir;
  }

  get runtime(): RuntimeInfo {
    return this.info.runtime;
  }

  /** Starts a container in the server; with stdio 'fifo' this process reads its output. */
  start(spec: StartSpec): Promise<Proc> {
    return this.#launch('start', spec);
  }

  exec(id: string, spec: ExecSpec): Promise<Proc> {
    return this.#launch(`exec/${encodeURIComponent(id)}`, spec);
  }

  async kill(id: string, signal: string | number = 'SIGTERM', options: { all?: boolean; execId?: string } = {}): Promise<void> {
    await this.#http.json('POST', `kill/${encodeURIComponent(id)}`, { signal, ...options });
  }

  async pause(id: string): Promise<void> {
    await this.#http.json('POST', `pause/${encodeURIComponent(id)}`);
  }

  async resume(id: string): Promise<void> {
    await this.#http.json('POST', `resume/${encodeURIComponent(id)}`);
  }

  state(id: string): Promise<RuntimeState> {
    return this.#http.json('GET', `state/${encodeURIComponent(id)}`);
  }

  async get(id: string, execId = 'init'): Promise<ProcessRecord | undefined> {
    return (await this.#http.json<ProcessRecord | null>('GET', `record/${encodeURIComponent(id)}?exec=${encodeURIComponent(execId)}`)) ?? undefined;
  }

  list(
    filter: { id?: string; states?: readonly RecordState[]; batchId?: string; limit?: number; withCleanup?: boolean } = {},
  ): Promise<ProcessRecord[]> {
    const query = new URLSearchParams();
    if (filter.withCleanup === true) query.set('withCleanup', '1');
    if (filter.id !== undefined) query.set('id', filter.id);
    if (filter.states !== undefined) query.set('states', filter.states.join(','));
    if (filter.batchId !== undefined) query.set('batchId', filter.batchId);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    return this.#http.json('GET', `records?${query}`);
  }

  /** The process's exit once it has ended (at once for one that has). */
  wait(id: string, execId = 'init'): Promise<Exit> {
    return this.#http.json('GET', `wait/${encodeURIComponent(id)}?exec=${encodeURIComponent(execId)}`);
  }

  gc(options: { olderThanMs?: number } = {}): Promise<GcResult> {
    return this.#http.json('POST', 'gc', options);
  }

  /** Removes the cached images no live container uses; resolves with their digests. */
  async pruneImages(): Promise<string[]> {
    return (await this.#http.json<{ removed: string[] }>('POST', 'prune-images')).removed;
  }

  /** Stops the server; running containers keep running and the next server adopts them. */
  async shutdown(): Promise<void> {
    await this.#http.json('POST', 'shutdown');
  }

  /** Closes this client's connections; the server and its containers go on. */
  async close(_options?: unknown): Promise<void> {
    this.#closed = true;
    this.#http.close();
  }

  /**
   * Submits jobs (sent as they are read) and yields each result as the server reports it. The
   * options' signal cancels through the server, so canceled jobs still come back as results.
   */
  async *batch(jobs: Iterable<JobSpec> | AsyncIterable<JobSpec>, options: BatchOptions = {}): AsyncGenerator<JobResult> {
    const { signal, onEvent, ...rest } = options;
    const query = encodeURIComponent(JSON.stringify({ ...rest, events: onEvent !== undefined }));
    const { request, response } = this.#http.open('POST', `batch?options=${query}`);
    request.flushHeaders();
    let sourceError: unknown = null;
    const pump = (async () => {
      try {
        for await (const job of jobs) {
          const { signal: _signal, fifoHandoff: _handoff, ...plain } = job as JobSpec & StartSpec;
          if (!request.write(`${JSON.stringify(withAbsolutePaths(plain))}\n`)) await once(request, 'drain');
        }
      } catch (error) {
        sourceError = error;
      } finally {
        request.end();
      }
    })();
    const res = await response;
    const token = res.headers['x-salvo-batch'];
    const onAbort = (): void => void this.#http.json('POST', `cancel/${String(token)}`).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    let ended = false;
    try {
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        const message = JSON.parse(line) as {
          result?: JobResult;
          event?: NonNullable<BatchOptions['onEvent']> extends (e: infer E) => void ? E : never;
          end?: true;
          error?: PlainError;
        };
        if (message.error !== undefined) throw errorFromWire(message.error);
        if (message.event !== undefined) onEvent?.(message.event);
        if (message.result !== undefined) yield message.result;
        if (message.end === true) ended = true;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!ended) request.destroy();
      await pump;
    }
    if (sourceError !== null) throw sourceError;
    if (!ended) throw new SalvoError('ERR_SERVER', 'the serving launcher went away during the batch');
  }

  async #launch(path: string, spec: StartSpec | ExecSpec): Promise<Proc> {
    const { fifoHandoff: _handoff, ...plain } = spec as StartSpec;
    if ((plain as StartSpec).signal !== undefined)
      throw new SalvoError('ERR_INVALID_SPEC', 'a client start takes no AbortSignal: kill the container instead');
    const handoff = plain.stdio === 'fifo';
    // A terminal comes to this process: the runtime sends the pty master to our own socket.
    const listener = plain.terminal === true ? await (await import('./client-console.js')).openClientConsole() : null;
    let readers: { stdout: FifoReader; stderr: FifoReader } | null = null;
    let res: IncomingMessage | null = null;
    let ack: Promise<unknown> | null = null;
    try {
      const { request, response } = this.#http.open('POST', path);
      const consoleSocket = listener === null ? {} : { consoleSocket: listener.path };
      request.end(JSON.stringify({ spec: withAbsolutePaths(plain), handoff, ...consoleSocket }));
      res = await response;
      const events = createInterface({ input: res, crlfDelay: Infinity })[Symbol.asyncIterator]();
      for (;;) {
        const next = await events.next();
        if (next.done === true) throw new SalvoError('ERR_SERVER', 'the serving launcher went away during the start');
        const event = JSON.parse(next.value) as LaunchEvent;
        if (event.event === 'error') throw errorFromWire(event.error as PlainError);
        if (event.event === 'fifos') {
          let opened: string | undefined;
          try {
            readers = { stdout: openFifoReader(event.stdout as string), stderr: openFifoReader(event.stderr as string) };
          } catch (error) {
            opened = (error as Error).message;
          }
          // Not awaited: the server spawns the runtime meanwhile and answers `started` once it has our word.
          ack = this.#http.json('POST', `handoff/${event.token as string}`, opened === undefined ? {} : { error: opened });
          ack.catch(() => undefined);
          continue;
        }
        if (event.event === 'started') {
          await ack;
          // The process holds its own write ends now.
          readers?.stdout.release();
          readers?.stderr.release();
          const proc = event.proc as Proc;
          const exited = this.#exitOf(events, res, proc);
          return {
            ...proc,
            exited,
            stdout: readers?.stdout.stream ?? null,
            stderr: readers?.stderr.stream ?? null,
            terminal: listener === null ? null : await this.#terminalOf(listener, proc, exited),
          };
        }
      }
    } catch (error) {
      for (const reader of [readers?.stdout, readers?.stderr]) {
        reader?.release();
        reader?.stream.destroy();
      }
      res?.destroy();
      throw error;
    } finally {
      listener?.close();
    }
  }

  /** The started process's terminal; should it not have come, the process is killed (as in-process). */
  async #terminalOf(listener: ClientConsole, proc: Proc, exited: Promise<Exit>): Promise<Terminal> {
    try {
      return await listener.take();
    } catch (error) {
      await this.kill(proc.id, 'SIGKILL', proc.execId === 'init' ? {} : { execId: proc.execId }).catch(() => undefined);
      throw new SalvoError('ERR_RUNTIME_FAILED', `${proc.id}/${proc.execId} started without its terminal: ${(error as Error).message}`, {
        cause: error,
        details: { id: proc.id, execId: proc.execId, exited },
      });
    }
  }

  /** The `exited` event of a start's stream; should the server die first, the next server's answer. Never rejects. */
  async #exitOf(events: AsyncIterator<string>, res: IncomingMessage, proc: Proc): Promise<Exit> {
    try {
      for (;;) {
        const next = await events.next();
        if (next.done === true) break;
        const event = JSON.parse(next.value) as LaunchEvent;
        if (event.event === 'exited') return event.exit as Exit;
      }
    } catch {
      // the connection broke
    } finally {
      res.destroy();
    }
    if (this.#closed) return lostExit(proc);
    try {
      const { connect } = await import('./connect.js');
      const next = await connect(this.stateDir);
      try {
        return await next.wait(proc.id, proc.execId);
      } finally {
        await next.close();
      }
    } catch {
      return lostExit(proc);
    }
  }
}

/** Paths as this process means them: the server's working directory is another. */
function withAbsolutePaths<T extends { bundle?: string; checkpoint?: { dir?: string; workDir?: string } }>(spec: T): T {
  const out = { ...spec };
  if (typeof out.bundle === 'string') out.bundle = resolve(out.bundle);
  if (out.checkpoint !== undefined && out.checkpoint !== null) {
    out.checkpoint = { ...out.checkpoint };
    if (typeof out.checkpoint.dir === 'string') out.checkpoint.dir = resolve(out.checkpoint.dir);
    if (typeof out.checkpoint.workDir === 'string') out.checkpoint.workDir = resolve(out.checkpoint.workDir);
  }
  return out;
}

/** What a client that can no longer ask says of an exit it did not see: unknown, never 0. */
function lostExit(proc: Proc): Exit {
  const at = Date.now();
  return {
    id: proc.id,
    recorded: false,
    execId: proc.execId,
    pid: proc.pid,
    state: 'lost',
    exitCode: 255,
    signal: null,
    rusage: null,
    startedAt: at,
    exitedAt: at,
    durationMs: 0,
  };
}
