// Asking a state directory's socket whether a launcher serves it (and which), without starting one.
import type { SalvoError } from '../errors.js';
import type { ServerInfo } from './client.js';
import type { SocketHttp } from './http.js';

/**
 * The server's info, or null when nothing listens (no socket, or one a killed server left) or
 * the one there is stopping (it removes its socket once the state lock is free).
 */
export async function tryInfo(http: SocketHttp): Promise<ServerInfo | null> {
  try {
    return await http.json<ServerInfo>('GET', 'info');
  } catch (error) {
    if ((error as SalvoError).code === 'ERR_SERVER_STOPPING') return null;
    const code = ((error as SalvoError).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    throw error;
  }
}

/** True while a stopping server still holds the socket (and the state lock). */
export async function stopping(http: SocketHttp): Promise<boolean> {
  try {
    await http.json<ServerInfo>('GET', 'info');
    return false;
  } catch (error) {
    return (error as SalvoError).code === 'ERR_SERVER_STOPPING';
  }
}
