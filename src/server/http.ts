// One HTTP exchange over the serving launcher's unix socket: JSON in, JSON or ND-JSON out.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { SalvoError } from '../errors.js';
import { API_PREFIX } from './socket.js';
import { errorFromWire, type PlainError } from './wire.js';

export class SocketHttp {
  readonly socket: string;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(socket: string) {
    this.socket = socket;
  }

  /** Opens a request; the caller writes the body. Rejects with the server's error for a non-2xx. */
  open(method: string, path: string): { request: ClientRequest; response: Promise<IncomingMessage> } {
    const options: RequestOptions & { servername: string } = {
      socketPath: this.socket,
      agent: this.#agent,
      method,
      path: `${API_PREFIX}/${path}`,
      headers: { 'content-type': 'application/json' },
      // A server name given skips the agent's isIP check of "localhost" (~10 ms of regex compile per command).
      servername: 'salvo',
    };
    const request = httpRequest(options);
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      request.once('error', (error) => reject(unreachable(this.socket, error)));
      request.once('response', (res) => {
        if ((res.statusCode ?? 500) < 300) return resolve(res);
        void readAll(res).then((text) => reject(errorFromWire(parseError(text))), reject);
      });
    });
    return { request, response };
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { request, response } = this.open(method, path);
    request.end(body === undefined ? undefined : JSON.stringify(body));
    const text = await readAll(await response);
    return JSON.parse(text) as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export function unreachable(socket: string, error: unknown): SalvoError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    // Another user's state directory: say so (exit 3), as the in-process commands do.
    return new SalvoError('ERR_STATE_DIR', `cannot use the state directory of ${socket} (${code}): run as its owner or pass --state-dir`, {
      cause: error,
    });
  }
  if (code === 'ENOTDIR') {
    return new SalvoError(
      'ERR_STATE_DIR',
      `cannot use the state directory ${dirname(socket)}: ${fileInTheWay(dirname(socket))} is a file, not a directory`,
      { cause: error },
    );
  }
  return new SalvoError('ERR_SERVER', `cannot reach the serving launcher at ${socket}: ${(error as Error).message}`, { cause: error });
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseError(text: string): PlainError {
  try {
    const parsed = JSON.parse(text) as { error?: PlainError };
    if (parsed.error !== undefined) return parsed.error;
  } catch {
    // not ours
  }
  return { code: 'ERR_SERVER', message: `unexpected answer from the serving launcher: ${text.slice(0, 200)}` };
}

/** The first path on the way to `dir` that is a file (ENOTDIR says only that one is). */
function fileInTheWay(dir: string): string {
  for (let path = dir; path !== dirname(path); path = dirname(path)) {
    try {
      if (!statSync(path).isDirectory()) return path;
    } catch {
      // not there (or under the file): look further up
    }
  }
  return dir;
}
