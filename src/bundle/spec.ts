// Reading a bundle's config.json (cached by mtime) and deriving a config with the process overridden.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { SalvoError } from '../errors.js';
import type { ContainerIsolation, ProcessOverride } from '../types.js';
import { applyContainerOptions } from './container-config.js';
import { checkNothingCreatedInRootfs } from './rootfs-paths.js';
import { withInit, withoutPidNamespace } from './init.js';

type Json = Record<string, unknown>;

interface CachedConfig {
  mtimeMs: number;
  size: number;
  config: Json;
}

// Per thread: each worker parses a bundle's config once, not once per start.
const cache = new Map<string, CachedConfig>();

/** Loads `<bundle>/config.json`, or throws ERR_BUNDLE_NOT_FOUND / ERR_BUNDLE_INVALID. */
export function loadBundleConfig(bundle: string): Json {
  const file = join(bundle, 'config.json');
  let info;
  try {
    info = statSync(file);
  } catch {
    let why = 'has no config.json';
    try {
      if (!statSync(bundle).isDirectory()) why = 'is not a directory';
    } catch {
      why = 'does not exist';
    }
    throw new SalvoError('ERR_BUNDLE_NOT_FOUND', `bundle ${bundle} ${why}`, { details: { bundle } });
  }
  const cached = cache.get(file);
  if (cached !== undefined && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.config;
  // Read errors (EMFILE under load) are not the file's fault: only a parse error means bad JSON.
  const text = readFileSync(file, 'utf8');
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new SalvoError('ERR_BUNDLE_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { bundle },
    });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new SalvoError('ERR_BUNDLE_INVALID', `${file} must hold a JSON object (an OCI runtime config)`);
  }
  cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, config: config as Json });
  return config as Json;
}

/**
 * Throws ERR_BUNDLE_INVALID when the rootfs the config names is not a directory: runc would say
 * "invalid rootfs", but crun only "make `…` private: No such file or directory".
 */
export function checkRootfs(config: Json, bundle: string): void {
  const path = rootfsPath(config, bundle);
  if (path === null) return; // the runtime names that problem itself
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
  if (!isDirectory) {
    throw new SalvoError('ERR_BUNDLE_INVALID', `bundle ${bundle}: its rootfs ${path} (root.path) does not exist or is not a directory`, {
      details: { bundle },
    });
  }
}

/** The absolute path of the config's rootfs (`root.path`, relative to the bundle), or null when it names none. */
function rootfsPath(config: Json, bundle: string): string | null {
  const root = config.root as Json | undefined;
  if (typeof root?.path !== 'string' || root.path === '') return null;
  return isAbsolute(root.path) ? root.path : resolve(bundle, root.path);
}

/** Applies what an override says of args, env and cwd to a copy of a process spec (start and exec alike). */
export function applyProcessOverride(process: Json, override: ProcessOverride): void {
  if (override.args !== undefined) process.args = [...override.args];
  if (override.env !== undefined) process.env = mergeEnv(Array.isArray(process.env) ? (process.env as string[]) : [], override.env);
  if (override.cwd !== undefined) process.cwd = override.cwd;
}

/** Merges `KEY=value` lists: later entries replace earlier ones with the same key. */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const merged = new Map<string, string>();
  for (const entry of [...base, ...overrides]) {
    const eq = entry.indexOf('=');
    merged.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  }
  return [...merged.values()];
}

/**
 * A copy of the bundle's config with the process overridden and `root.path` made absolute,
 * so that it can live in the process directory and still point at the original rootfs; with
 * `isolation`, what salvo sets on every container (applyIsolation).
 */
export function deriveConfig(config: Json, bundle: string, override: ProcessOverride, isolation: ContainerIsolation | null = null): Json {
  const rootPath = rootfsPath(config, bundle);
  if (rootPath === null) throw new SalvoError('ERR_BUNDLE_INVALID', `bundle ${bundle}: config.json has no root.path`);
  const process = { ...((config.process as Json | undefined) ?? {}) };
  applyProcessOverride(process, override);
  // A terminal only when asked: a `runc spec` bundle says terminal: true, which needs a console socket.
  process.terminal = override.terminal === true;
  if (override.consoleSize !== undefined) process.consoleSize = { ...override.consoleSize };
  else if (process.terminal !== true) delete process.consoleSize;
  if (!Array.isArray(process.args) || process.args.length === 0) {
    throw new SalvoError('ERR_BUNDLE_INVALID', `bundle ${bundle}: config.json has no process.args and none were given`);
  }
  const derived: Json = { ...config, process, root: { ...(config.root as Json), path: rootPath } };
  const container = override.container;
  if (container !== undefined) applyContainerOptions(derived, rootPath, container, envKeys(override.env));
  checkNothingCreatedInRootfs(
    derived,
    rootPath,
    override.cwd,
    (container?.mounts ?? []).map((mount) => mount.destination),
  );
  return applyIsolation(derived, isolation);
}

function envKeys(env: readonly string[] | undefined): Set<string> {
  return new Set((env ?? []).map((entry) => entry.slice(0, entry.indexOf('='))));
}

/**
 * OCI hooks (prestart, createRuntime, poststop…) run host commands as root, outside the
 * container: with refuseHooks such a bundle does not start.
 */
export function checkHooks(config: Json, bundle: string, isolation: ContainerIsolation | null): void {
  if (isolation?.refuseHooks !== true) return;
  const hooks = config.hooks as Json | undefined;
  const kinds =
    typeof hooks === 'object' && hooks !== null
      ? Object.keys(hooks).filter((k) => Array.isArray(hooks[k]) && (hooks[k] as unknown[]).length > 0)
      : [];
  if (kinds.length > 0) {
    throw new SalvoError(
      'ERR_BUNDLE_INVALID',
      `bundle ${bundle} has OCI hooks (${kinds.join(', ')}), which run on the host as root; this launcher refuses them (bundleHooks: 'refuse')`,
      {
        details: { bundle },
      },
    );
  }
}

/** True when the bundle's config lacks something isolation sets: the start then needs a derived config. */
export function needsIsolation(config: Json, isolation: ContainerIsolation | null): boolean {
  return applyIsolation(config, isolation) !== config;
}

/**
 * What salvo sets on a container (DESIGN §12, §13): `linux.cgroupsPath` from isolation when the
 * bundle names none (a bundle's own is kept), the host's pid namespace when asked for, salvo-init
 * as pid 1. Returns the config itself when nothing changes.
 */
export function applyIsolation(config: Json, isolation: ContainerIsolation | null): Json {
  if (isolation === null) return config;
  const linux = (config.linux as Json | undefined) ?? {};
  const ownPath = typeof linux.cgroupsPath === 'string' && linux.cgroupsPath !== '';
  let isolated = isolation.cgroupsPath === null || ownPath ? config : { ...config, linux: { ...linux, cgroupsPath: isolation.cgroupsPath } };
  if (isolation.hostPid) isolated = withoutPidNamespace(isolated);
  return isolation.init === null ? isolated : withInit(isolated, isolation.init);
}

/** Writes a derived config.json into the process directory (which then serves as the bundle). */
export function writeConfig(dir: string, config: Json): void {
  writeJsonFile(join(dir, 'config.json'), config);
}

/** A derived spec file (config.json, an exec's process.json): readable by root alone. */
export function writeJsonFile(file: string, value: Json): void {
  writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
}
