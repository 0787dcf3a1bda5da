// Asking a state directory's socket whether a launcher serves it (and which), without starting one.
import type { SalvoError } from '../errors.js';
import type { ServerInfo } from './client.js';
import type { SocketHttp } from './http.js';

/**
 * One request: the server's info; 'stopping' while a stopping server still holds the socket (and
 * the state lock: it removes the socket once the lock is free); null when nothing listens (no
 * socket, or one a killed server left).
 */
export async function probe(http: SocketHttp): Promise<ServerInfo | 'stopping' | null> {
  try {
    return await http.json<ServerInfo>('GET', 'info');
  } catch (error) {
    if ((error as SalvoError).code === 'ERR_SERVER_STOPPING') return 'stopping';
    const code = ((error as SalvoError).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    throw error;
  }
}

/** The server's info, or null when none serves (nothing listens, or the one there is stopping). */
export async function tryInfo(http: SocketHttp): Promise<ServerInfo | null> {
  const found = await probe(http);
  return found === 'stopping' ? null : found;
}
