// Deciding, once at open, how every runtime command is invoked: the binary, its --root, its
// environment, its version, and (crun on a hybrid cgroup host) the mount namespace wrapper.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SalvoError } from '../errors.js';
import { containersDirOf, shareContainersDir } from '../image/shared-containers.js';
import { HybridCgroupNamespace, hostHasHybridControllers } from '../runtime/hybrid-cgroup.js';
import { resolveRuntime, runtimeFlavour } from '../runtime/resolve.js';
import { execHelperPath, native } from '../native.js';
import type { RuntimeInvocation } from '../types.js';
import { runCommand } from '../worker/command.js';
import type { CommandResult } from '../worker/protocol.js';
import type { NormalizedOptions } from './options.js';
import type { RuntimePool } from './pool.js';

export interface RuntimeSetup {
  invocation: RuntimeInvocation;
  path: string;
  flavour: 'runc' | 'crun' | 'unknown';
  version: string;
  namespace: HybridCgroupNamespace | null;
  /** True when overlays mounted on the host reach the runtime (crun's namespace gets them through salvo's shared bind, §12). */
  overlaysFromHost: boolean;
}

export async function setupRuntime(options: NormalizedOptions, pool: RuntimePool): Promise<RuntimeSetup> {
  const { path } = resolveRuntime(options.runtime);
  const root = options.runtimeRoot ?? join(options.stateDir, 'runtime', basename(path));
  mkdirSync(root, { recursive: true, mode: 0o700 });
  // The runtime's per-container state directories spread like ours (DESIGN §10); a root of the user's is left as it is.
  if (options.runtimeRoot === null) native().spreadSubdirectories(root);
  const wantsNamespace = options.crunHybridWorkaround === 'auto' && hostHasHybridControllers();
  // A binary named crun gets its namespace while the probe runs (open is on every cold CLI call); the probe decides.
  const early = wantsNamespace && basename(path).includes('crun') ? startNamespace(path, options) : null;
  early?.catch(() => undefined); // awaited below, or dropped with its error when the probe says otherwise
  let probe: CommandResult;
  try {
    probe = await probeVersion(path, root, options, pool);
  } catch (error) {
    await closeNamespace(early);
    throw error;
  }
  if (!probe.ok) {
    await closeNamespace(early);
    throw new SalvoError('ERR_RUNTIME_NOT_FOUND', `${path} --version failed, so it is not a usable OCI runtime: ${probe.error.message}`);
  }
  const flavour = runtimeFlavour(probe.stdout);
  let hybrid: HybridSetup | null = null;
  if (flavour === 'crun' && wantsNamespace) hybrid = await (early ?? startNamespace(path, options));
  else await closeNamespace(early);
  const namespace = hybrid?.namespace ?? null;
  const invocation = runtimeInvocationFor(path, root, namespace?.mountNamespace ?? null, options.runtimeArgs);
  // Every runtime command dies with the launcher, and enters crun's namespace when there is one:
  // through the addon's spawner on the hot path (spawner 'native'), else through salvo-exec.
  invocation.native = options.spawner === 'native' ? { path, mountNamespace: namespace?.mountNamespace ?? null } : null;
  return { invocation, path, flavour, version: probe.stdout.split('\n')[0] ?? '', namespace, overlaysFromHost: hybrid?.overlaysFromHost ?? true };
}

/**
 * `runtime --version`. With the native spawner it runs here, on the main thread, while the workers
 * load (~150-220 ms each): open does not wait for them. Else through a worker (execa).
 */
async function probeVersion(path: string, root: string, options: NormalizedOptions, pool: RuntimePool): Promise<CommandResult> {
  const nativeSpawn = options.spawner === 'native' ? { path, mountNamespace: null } : null;
  const probe = {
    runtime: { file: path, prefix: [], root, extraGlobalArgs: [], native: nativeSpawn },
    args: ['--version'],
    logFile: join(options.stateDir, 'runtime-version.log'),
    timeoutMs: 30_000,
  };
  return nativeSpawn === null ? pool.run('command', probe) : runCommand(probe);
}

interface HybridSetup {
  namespace: HybridCgroupNamespace;
  overlaysFromHost: boolean;
}

/** crun's private mount namespace on a hybrid cgroup host (DESIGN §12). */
async function startNamespace(path: string, options: NormalizedOptions): Promise<HybridSetup> {
  // Before the holder copies the mount table: its copy of the bind becomes a slave of the host's.
  const shared = shareContainersDir(containersDirOf(options.stateDir));
  const overlaysFromHost = shared.state !== 'unavailable';
  if (shared.state === 'unavailable')
    options.logger.warn(
      { reason: shared.reason },
      "overlays are mounted inside crun's namespace by salvo-exec: cannot share the containers directory",
    );
  const namespace = await HybridCgroupNamespace.start(options.stateDir);
  options.logger.info(
    { runtime: path, namespaceHolder: namespace.pid },
    'crun runs in a private mount namespace: this hybrid cgroup host has cgroup2 controllers crun 1.8 refuses',
  );
  return { namespace, overlaysFromHost };
}

/** A namespace started early for nothing (not crun after all, or the open failed): its holder goes. */
async function closeNamespace(early: Promise<HybridSetup> | null): Promise<void> {
  const started = await early?.catch(() => null);
  await started?.namespace.close();
}

/**
 * How every runtime command is invoked, by a launcher and by the CLI beside one: through salvo-exec,
 * so that it dies with its caller, entering crun's mount namespace when there is one (§12).
 */
export function runtimeInvocationFor(
  runtimePath: string,
  root: string,
  mountNamespace: string | null,
  extraGlobalArgs: string[] = [],
): RuntimeInvocation {
  return { file: execHelperPath(), prefix: execHelperArgs(runtimePath, mountNamespace), root, extraGlobalArgs };
}

/** salvo-exec's arguments before the runtime's own: our pid, the namespace to enter or '-', the runtime. */
export function execHelperArgs(runtimePath: string, mountNamespace: string | null): string[] {
  return [String(process.pid), mountNamespace ?? '-', runtimePath];
}
