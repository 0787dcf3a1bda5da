// Redis connection options from a URL or an ioredis options object, and URLs safe to print.
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { SalvoError } from '../errors.js';

/** A redis:// or rediss:// URL (user, password, db in the path), or ioredis options passed through. */
export type RedisConnection = string | RedisOptions;

/** ioredis options for a connection; TLS for rediss://, `extra` (password, tls, db…) wins. */
export function redisOptions(connection: RedisConnection, extra: RedisOptions = {}): RedisOptions {
  if (typeof connection !== 'string') return { ...connection, ...extra };
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new SalvoError('ERR_INVALID_OPTION', `redis URL ${redactRedisUrl(connection)} is not a URL (redis://[user:password@]host[:port][/db])`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new SalvoError('ERR_INVALID_OPTION', `redis URL ${redactRedisUrl(connection)} must start with redis:// or rediss://`);
  }
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? undefined : Number(path);
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    throw new SalvoError('ERR_INVALID_OPTION', `redis URL ${redactRedisUrl(connection)}: the path must be a database number`);
  }
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port === '' ? 6379 : Number(url.port),
  };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  if (db !== undefined) options.db = db;
  if (url.protocol === 'rediss:') options.tls = {};
  return { ...options, ...extra };
}

/** The URL with its password replaced by ***: what logs and messages show. */
export function redactRedisUrl(connection: RedisConnection): string {
  if (typeof connection !== 'string') {
    const scheme = connection.tls === undefined ? 'redis' : 'rediss';
    return `${scheme}://${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}/${connection.db ?? 0}`;
  }
  try {
    const url = new URL(connection);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    // Not a URL: whatever follows a ':' before an '@' may be a password.
    return connection.replace(/:[^:@/]*@/, ':***@');
  }
}

/** The same options typed as BullMQ's ConnectionOptions (its own RedisOptions type, same fields). */
export function bullConnection(connection: RedisConnection, extra: RedisOptions = {}): ConnectionOptions {
  return redisOptions(connection, extra) as ConnectionOptions;
}

/** Connects once (no retry) and pings: a Redis that is not there is an error now, not a silent wait. */
export async function assertRedisReachable(connection: RedisConnection, extra: RedisOptions = {}): Promise<void> {
  const client = new Redis({
    ...redisOptions(connection, extra),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5_000,
  });
  let cause: Error | null = null;
  client.on('error', (error: Error) => (cause = error)); // the connect's own rejection says less
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = (cause as Error | null) ?? (error as Error);
    throw new SalvoError('ERR_REDIS_UNREACHABLE', `cannot reach Redis at ${redactRedisUrl(connection)}: ${why.message}`, { cause: why });
  } finally {
    client.disconnect();
  }
}
