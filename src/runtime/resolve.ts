// Finding the runtime binary: 'runc', 'crun' or a path, checked once at open.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { SalvoError } from '../errors.js';

export interface ResolvedRuntime {
  /** Absolute path of the binary. */
  path: string;
  /** What the user asked for ('runc', 'crun', or the path). */
  requested: string;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a runtime name or path to an executable file, or throws ERR_RUNTIME_NOT_FOUND. */
export function resolveRuntime(requested: string, searchPath = process.env.PATH ?? ''): ResolvedRuntime {
  if (typeof requested !== 'string' || requested.trim() === '') {
    throw new SalvoError('ERR_RUNTIME_NOT_FOUND', 'runtime must be "runc", "crun" or a path to a binary');
  }
  if (requested.includes('/')) {
    const path = isAbsolute(requested) ? requested : resolve(requested);
    if (!isExecutableFile(path)) {
      throw new SalvoError('ERR_RUNTIME_NOT_FOUND', `runtime ${path} is missing or not executable`);
    }
    return { path, requested };
  }
  // /usr/sbin and /sbin are searched too: runtimes live there on some distributions.
  const dirs = [...searchPath.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = resolve(dir, requested);
    if (isExecutableFile(candidate)) return { path: candidate, requested };
  }
  throw new SalvoError(
    'ERR_RUNTIME_NOT_FOUND',
    `runtime "${requested}" was not found in PATH (install it: apt-get install -y ${requested === 'crun' ? 'crun' : 'runc'})`,
  );
}

/** Which runtime a `--version` output belongs to. */
export function runtimeFlavour(versionOutput: string): 'runc' | 'crun' | 'unknown' {
  const first = versionOutput.trimStart().toLowerCase();
  if (first.startsWith('crun')) return 'crun';
  if (first.startsWith('runc')) return 'runc';
  return 'unknown';
}
