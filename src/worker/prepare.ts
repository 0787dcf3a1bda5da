// DESIGN §3 step 2 in a worker: validate the bundle, make the process directory and write what
// the runtime reads from it (an init's derived config.json, an exec's process.json). Out of fds
// (EMFILE, ENFILE), every step waits and retries within the start's patience.
import { chownSync, existsSync, mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initIfCommandFound } from '../bundle/init.js';
import { deriveProcess } from '../bundle/process-spec.js';
import {
  applyIsolation,
  checkHooks,
  checkRootfs,
  deriveConfig,
  loadBundleConfig,
  needsIsolation,
  writeConfig,
  writeJsonFile,
} from '../bundle/spec.js';
import { plainError } from '../errors.js';
import { releaseImageRootfs, withImageRootfs } from '../image/rootfs.js';
import { patienceFor, patiently, type Patience } from '../io/exhaustion.js';
import { prepareProcessDir, processPaths, refuseLinkedContainerDir } from '../io/process-dir.js';
import { now } from '../time.js';
import type { ContainerIsolation } from '../types.js';
import type { PrepareResult, PrepareTask, StartTask } from './protocol.js';

/**
 * Validates the bundle (its rootfs too), makes a fresh process directory (unless the main thread
 * already made it for fifos or a console socket: `bundle` null asks for the directory alone) and,
 * when the process is overridden, writes its derived config.
 */
export async function prepareContainer(task: PrepareTask, makeDir = true, patience: Patience = patienceFor(60_000)): Promise<PrepareResult> {
  const began = now();
  try {
    if (task.bundle === null) {
      await patiently('preparing the process directory', () => prepareProcessDir(task.dir, task.stdio), patience);
      return { ok: true, bundle: task.dir, init: false, prepareMs: now() - began };
    }
    const source = task.bundle;
    const config = await patiently('reading the bundle', () => checkedConfig(source), patience);
    const isolation = task.isolation ?? null;
    checkHooks(config, source, isolation);
    if (makeDir) await patiently('preparing the process directory', () => prepareProcessDir(task.dir, task.stdio), patience);
    let bundle = source;
    let init = false;
    // A bundle without its own cgroupsPath needs a derived config too (its container's cgroup).
    if (task.override !== null || needsIsolation(config, isolation)) {
      const plain = deriveConfig(config, source, task.override ?? {});
      const effective = initIfCommandFound(isolation, plain, task.image?.lower);
      if (effective?.init != null) {
        init = true;
        await patiently('making the init status directory', () => makeInitStatusDir(effective, plain), patience);
      }
      let derived = applyIsolation(plain, effective);
      if (task.image != null) derived = await withImageRootfs(derived, task.dir, task.image);
      await patiently('writing the derived config.json', () => writeConfig(task.dir, derived), patience);
      bundle = task.dir;
    }
    return { ok: true, bundle, init, prepareMs: now() - began };
  } catch (error) {
    if (task.image != null) await releaseImageRootfs(task.dir, task.image.mount).catch(() => undefined);
    if (makeDir) removeQuietly(task.dir); // nothing half-made is left behind
    return { ok: false, error: plainProcessDirError(error), prepareMs: now() - began };
  }
}

/**
 * An exec's process.json: the container's config (the init's derived config.json when there is
 * one: args/env overridden at start) with the exec's overrides; the bundle stays the container's.
 */
export async function prepareExec(task: StartTask, initDir: string, patience: Patience): Promise<PrepareResult> {
  const began = now();
  const makeDir = !task.prepared;
  try {
    const configDir = existsSync(join(initDir, 'config.json')) ? initDir : task.bundle;
    const config = await patiently('reading the container config', () => loadBundleConfig(configDir), patience);
    const process = deriveProcess(config, join(configDir, 'config.json'), task.override ?? {});
    const paths = makeDir
      ? await patiently('preparing the process directory', () => prepareProcessDir(task.dir, task.stdio), patience)
      : processPaths(task.dir);
    await patiently('writing process.json', () => writeJsonFile(paths.processJson, process), patience);
    return { ok: true, bundle: task.bundle, init: false, prepareMs: now() - began };
  } catch (error) {
    if (makeDir) removeQuietly(task.dir);
    return { ok: false, error: plainProcessDirError(error), prepareMs: now() - began };
  }
}

/** A failure before the runtime ran that carries no salvo code is the process directory's. */
export function plainProcessDirError(error: unknown): { code: string; message: string } {
  return plainError(error, 'ERR_STATE_DIR', 'cannot prepare the process directory');
}

/** The bundle's config, once its rootfs is known to exist. */
function checkedConfig(bundle: string): ReturnType<typeof loadBundleConfig> {
  const config = loadBundleConfig(bundle);
  checkRootfs(config, bundle);
  return config;
}

/** Where salvo-init leaves the command's wait status: writable by the container's user alone. */
function makeInitStatusDir(isolation: ContainerIsolation, config: Record<string, unknown>): void {
  const dir = (isolation.init as NonNullable<ContainerIsolation['init']>).statusDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // a retried prepare finds it made
  const user = (config.process as { user?: { uid?: unknown; gid?: unknown } } | undefined)?.user;
  if (typeof user?.uid === 'number' && user.uid !== 0) chownSync(dir, user.uid, typeof user.gid === 'number' ? user.gid : 0);
}

/** Removes a process directory, and its container directory if that is left empty. */
function removeQuietly(dir: string): void {
  try {
    refuseLinkedContainerDir(dir); // never remove through a link
    rmSync(dir, { recursive: true, force: true });
    rmdirSync(dirname(dir));
  } catch {
    // another process directory of the container (an exec) keeps it; gc removes the rest
  }
}
