// The state directory: where it is by default, and the checks before salvo trusts it (§13).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SalvoError } from '../errors.js';
import { makeDirectory } from '../io/make-dir.js';

/** /run/salvo as root, else $XDG_RUNTIME_DIR/salvo (or /tmp/salvo-<uid>); SALVO_STATE_DIR wins. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SALVO_STATE_DIR !== undefined && env.SALVO_STATE_DIR !== '') return resolve(env.SALVO_STATE_DIR);
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/salvo';
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '') return join(env.XDG_RUNTIME_DIR, 'salvo');
  return `/tmp/salvo-${uid}`;
}

/** Creates the directory (0700) or checks an existing one: ours, writable, not writable by others. */
export function ensureStateDir(dir: string): string {
  const path = resolve(dir);
  try {
    makeDirectory(path);
  } catch (error) {
    throw new SalvoError('ERR_STATE_DIR', `cannot create state directory ${path}: ${whyNotCreated(path, error)}`, {
      cause: error,
    });
  }
  const info = statSync(path);
  if (!info.isDirectory()) throw new SalvoError('ERR_STATE_DIR', `state directory ${path} is not a directory`);
  const uid = process.getuid?.() ?? 0;
  if (info.uid !== uid) {
    throw new SalvoError('ERR_STATE_DIR', `state directory ${path} is owned by uid ${info.uid}, not by this user (${uid})`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new SalvoError('ERR_STATE_DIR', `state directory ${path} is writable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 700 it`);
  }
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new SalvoError('ERR_STATE_DIR', `state directory ${path} is not writable`, { cause: error });
  }
  for (const sub of ['containers', 'runtime', 'bundles']) {
    try {
      makeDirectory(join(path, sub));
    } catch (error) {
      throw new SalvoError('ERR_STATE_DIR', `state directory ${path} is unusable: ${(error as Error).message}`, { cause: error });
    }
  }
  return path;
}

/** A recursive mkdir says ENOENT when the real cause is a read-only or unwritable parent: name it. */
function whyNotCreated(path: string, error: unknown): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dir !== dirname(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (parentError) {
    return `${dir} is not writable (${(parentError as Error).message})`;
  }
  return (error as Error).message;
}
