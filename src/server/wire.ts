// What crosses the socket: JSON bodies, ND-JSON streams, errors as { code, message }.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SalvoError, errorFromPlain, isErrorCode } from '../errors.js';

export interface PlainError {
  code: string;
  message: string;
  runtimeExitCode?: number | null;
}

export function plainError(error: unknown): PlainError {
  if (error instanceof SalvoError) {
    const runtimeExitCode = (error as { runtimeExitCode?: number | null }).runtimeExitCode;
    return { code: error.code, message: error.message, ...(runtimeExitCode === undefined ? {} : { runtimeExitCode }) };
  }
  return { code: 'ERR_SERVER', message: error instanceof Error ? error.message : String(error) };
}

/** The SalvoError a server reported (codes this client does not know become ERR_SERVER). */
export function errorFromWire(plain: PlainError): SalvoError {
  if (!isErrorCode(plain.code)) return new SalvoError('ERR_SERVER', plain.message);
  return errorFromPlain(plain, plain.runtimeExitCode ?? null);
}

export async function readJson<T>(request: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SalvoError('ERR_INVALID_SPEC', 'the request body is not JSON');
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const plain = plainError(error);
  if (response.headersSent) {
    writeLine(response, { event: 'error', error: plain });
    response.end();
    return;
  }
  sendJson(response, plain.code === 'ERR_NOT_FOUND' ? 404 : plain.code === 'ERR_SERVER_STOPPING' ? 503 : 400, { error: plain });
}

/** Starts an ND-JSON stream: headers go at once, so the client sees them before the first event. */
export function startStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  response.flushHeaders();
}

/** One ND-JSON line; a client that went away is not an error. Returns false when the buffer is full. */
export function writeLine(response: ServerResponse, value: unknown): boolean {
  if (response.destroyed || response.writableEnded) return true;
  return response.write(`${JSON.stringify(value)}\n`);
}
