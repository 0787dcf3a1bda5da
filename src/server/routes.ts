// The serving launcher's HTTP routes: each one a call of the in-process Launcher's public API.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { SalvoError } from '../errors.js';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { Launcher, Proc } from '../launcher/launcher.js';
import type { BatchEvent, BatchOptions, ExecSpec, Exit, JobSpec, RecordState, StartSpec } from '../types.js';
import { FifoHolds, type FifoHold } from './fifo-holds.js';
import { API_PREFIX } from './socket.js';
import { readJson, sendError, sendJson, startStream, writeLine } from './wire.js';

/**
 * The body of a start or exec: the spec, whether the client opens the fifos itself, and with a
 * terminal the client's console socket (the pty master goes to the client, never through here).
 */
export interface LaunchRequest<S> {
  spec: S;
  handoff?: boolean;
  consoleSocket?: string;
}

/** The parts of a Proc that cross the socket (its streams stay with whoever reads the fifos). */
export function procInfo(proc: Proc): object {
  return { id: proc.id, execId: proc.execId, pid: proc.pid, dir: proc.dir, timings: proc.timings };
}

type Handler = (request: IncomingMessage, response: ServerResponse, params: { id: string; query: URLSearchParams }) => Promise<void>;

export class Routes {
  readonly #launcher: Launcher;
  readonly #info: object;
  /** Fifo read ends held until their client says it opened its own. */
  readonly #holds = new FifoHolds();
  /** Running batches by token, for a client's cancel. */
  readonly #batches = new Map<string, AbortController>();
  readonly #table: Record<string, Handler>;

  constructor(launcher: Launcher, info: object, onShutdown: () => void) {
    this.#launcher = launcher;
    this.#info = info;
    const l = launcher;
    this.#table = {
      'GET info': async (_q, res) => sendJson(res, 200, this.#info),
      'POST start': (req, res) => this.#launch(req, res, (spec: StartSpec) => l.start(spec)),
      'POST exec': (req, res, { id }) => this.#launch(req, res, (spec: ExecSpec) => l.exec(id, spec)),
      'POST handoff': async (req, res, { id }) => {
        this.#holds.settle(id, (await readJson<{ error?: string }>(req)).error);
        sendJson(res, 200, {});
      },
      'POST kill': async (req, res, { id }) => {
        const body = await readJson<{ signal?: string | number; all?: boolean; execId?: string }>(req);
        await l.kill(id, body.signal ?? 'SIGTERM', { all: body.all, execId: body.execId });
        sendJson(res, 200, {});
      },
      'POST pause': async (_q, res, { id }) => sendJson(res, 200, await l.pause(id).then(() => ({}))),
      'POST resume': async (_q, res, { id }) => sendJson(res, 200, await l.resume(id).then(() => ({}))),
      'GET state': async (_q, res, { id }) => sendJson(res, 200, await l.state(id)),
      'GET record': async (_q, res, { id, query }) => sendJson(res, 200, l.get(id, query.get('exec') ?? INIT_EXEC_ID) ?? null),
      'GET records': async (_q, res, { query }) => {
        const states = query.get('states');
        const limit = query.get('limit');
        sendJson(
          res,
          200,
          l.list({
            id: query.get('id') ?? undefined,
            batchId: query.get('batchId') ?? undefined,
            states: states === null ? undefined : (states.split(',') as RecordState[]),
            limit: limit === null ? undefined : Number(limit),
            withCleanup: query.get('withCleanup') === '1',
          }),
        );
      },
      'GET wait': async (req, res, { id, query }) => sendJson(res, 200, await this.#wait(id, query.get('exec') ?? INIT_EXEC_ID, req)),
      'POST gc': async (req, res) => sendJson(res, 200, await l.gc(await readJson<{ olderThanMs?: number }>(req))),
      'POST prune-images': async (_q, res) => sendJson(res, 200, { removed: l.pruneImages() }),
      'POST batch': (req, res, { query }) => this.#batch(req, res, query),
      'POST cancel': async (_q, res, { id }) => {
        this.#batches.get(id)?.abort();
        sendJson(res, 200, {});
      },
      'POST shutdown': async (_q, res) => {
        sendJson(res, 200, {});
        onShutdown();
      },
    };
  }

  /** Routes `METHOD /v1/<verb>[/<id>]`; every failure answers with { error: { code, message } }. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://salvo');
    const parts = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length + 1).split('/') : [];
    const handler = this.#table[`${request.method ?? 'GET'} ${parts[0] ?? ''}`];
    try {
      if (handler === undefined || parts.length > 2) throw new SalvoError('ERR_NOT_FOUND', `no route ${request.method} ${url.pathname}`);
      await handler(request, response, { id: decodeURIComponent(parts[1] ?? ''), query: url.searchParams });
    } catch (error) {
      sendError(response, error);
    }
  }

  /**
   * A start or exec, as ND-JSON: `fifos` (with a handoff: open these, then POST handoff/<token>),
   * `started` with the process, `exited` with its exit. The client may leave after `started`.
   * The runtime is spawned while the client opens the fifos (the server holds read ends until
   * then); `started` waits for the client's word, and a client that could not open them, or went
   * away first, gets its process killed and the start failed.
   */
  async #launch<S extends StartSpec | ExecSpec>(
    request: IncomingMessage,
    response: ServerResponse,
    launch: (spec: S) => Promise<Proc>,
  ): Promise<void> {
    const body = await readJson<LaunchRequest<S>>(request);
    if (typeof body.spec !== 'object' || body.spec === null) throw new SalvoError('ERR_INVALID_SPEC', 'the request has no spec');
    // No terminal traffic passes through the server: the runtime sends the master to the client.
    if (body.spec.terminal === true && typeof body.consoleSocket !== 'string')
      throw new SalvoError('ERR_INVALID_SPEC', 'a serving launcher takes a terminal only with the console socket of its client');
    startStream(response);
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    const { consoleSocket: _ignored, ...plain } = body.spec;
    const spec = { ...plain, ...(body.spec.terminal === true ? { consoleSocket: body.consoleSocket } : {}) } as S;
    let hold: FifoHold | null = null;
    if (body.handoff === true) {
      spec.fifoHandoff = async (fifos) => {
        hold = this.#holds.hold(fifos, gone.signal);
        writeLine(response, { event: 'fifos', token: hold.token, ...fifos });
      };
    }
    let proc: Proc;
    try {
      proc = await launch(spec);
      // Nobody here reads the process's output: its reader is the client.
      proc.stdout?.destroy();
      proc.stderr?.destroy();
      await this.#clientReading(hold, proc);
    } finally {
      (hold as FifoHold | null)?.release(); // the start is over: started, failed, or its process killed
    }
    writeLine(response, { event: 'started', proc: procInfo(proc) });
    const exit = await proc.exited;
    writeLine(response, { event: 'exited', exit });
    response.end();
  }

  /** Resolves once the client reads the process's fifos; if it never will, the process is killed and the start fails. */
  async #clientReading(hold: FifoHold | null, proc: Proc): Promise<void> {
    try {
      await hold?.acked;
    } catch (error) {
      const target = proc.execId === INIT_EXEC_ID ? { all: true } : { execId: proc.execId };
      await this.#launcher.kill(proc.id, 'SIGKILL', target).catch(() => undefined);
      throw error;
    }
  }

  /** The exit of a process, live or recorded. */
  async #wait(id: string, execId: string, request: IncomingMessage): Promise<Exit> {
    const closed = new Promise<void>((resolve) => request.socket.once('close', resolve));
    for (;;) {
      const live = this.#launcher.exited(id, execId);
      if (live !== undefined) return live;
      const record = this.#launcher.get(id, execId);
      if (record === undefined) throw new SalvoError('ERR_NOT_FOUND', `no container ${id}${execId === INIT_EXEC_ID ? '' : ` exec ${execId}`}`);
      if (record.state !== 'subscribed' && record.state !== 'running') {
        const startedAt = record.startedAt ?? record.subscribedAt;
        const exitedAt = record.exitedAt ?? startedAt;
        return {
          id,
          recorded: true,
          execId,
          pid: record.pid ?? 0,
          state: record.state === 'failed' ? 'lost' : record.state,
          exitCode: record.exitCode ?? 255,
          signal: record.signal,
          rusage: record.rusage,
          startedAt,
          exitedAt,
          durationMs: exitedAt - startedAt,
        };
      }
      // Subscribed and not yet live: its start is under way.
      const settled = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
      if (settled) throw new SalvoError('ERR_ABORTED', 'the client went away');
    }
  }

  /** A batch: job specs as ND-JSON in the body, events and results as ND-JSON out, as they come. */
  async #batch(request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const options = JSON.parse(query.get('options') ?? '{}') as Omit<BatchOptions, 'signal' | 'onEvent'> & { events?: boolean };
    const controller = new AbortController();
    const token = randomUUID();
    this.#batches.set(token, controller);
    // A client that goes away (SIGINT, SIGKILL) cancels its batch as its own signal would.
    response.on('close', () => {
      this.#batches.delete(token);
      if (!response.writableFinished) controller.abort();
    });
    response.setHeader('x-salvo-batch', token);
    startStream(response);
    // The iterator is taken at once: readline drops lines that come before anyone iterates.
    const lines = createInterface({ input: request, crlfDelay: Infinity })[Symbol.asyncIterator]();
    async function* jobs(): AsyncGenerator<JobSpec> {
      for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
        if (next.value.trim() !== '') yield JSON.parse(next.value) as JobSpec;
      }
    }
    const onEvent = options.events === true ? (event: BatchEvent): void => void writeLine(response, { event }) : undefined;
    const { events: _events, ...batchOptions } = options;
    for await (const result of this.#launcher.batch(jobs(), { ...batchOptions, signal: controller.signal, onEvent })) {
      writeLine(response, { result });
    }
    writeLine(response, { end: true });
    response.end();
  }
}
