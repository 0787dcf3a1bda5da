// Deciding, once at open, how every runtime command is invoked: the binary, its --root, its
// environment, its version, and (crun on a hybrid cgroup host) the mount namespace wrapper.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SalvoError } from '../errors.js';
import { HybridCgroupNamespace, hostHasHybridControllers } from '../runtime/hybrid-cgroup.js';
import { resolveRuntime, runtimeFlavour } from '../runtime/resolve.js';
import { execHelperPath } from '../native.js';
import type { CommandResult, RuntimeInvocation } from '../types.js';
import type { NormalizedOptions } from './options.js';
import type { RuntimePool } from './pool.js';

export interface RuntimeSetup {
  invocation: RuntimeInvocation;
  path: string;
  flavour: 'runc' | 'crun' | 'unknown';
  version: string;
  namespace: HybridCgroupNamespace | null;
}

export async function setupRuntime(options: NormalizedOptions, pool: RuntimePool): Promise<RuntimeSetup> {
  const { path } = resolveRuntime(options.runtime);
  const root = options.runtimeRoot ?? join(options.stateDir, 'runtime', basename(path));
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const invocation: RuntimeInvocation = {
    file: path,
    prefix: [],
    root,
    extraGlobalArgs: options.runtimeArgs,
  };
  const execHelper = execHelperPath();
  const probe = await pool.run<CommandResult>({
    kind: 'command',
    runtime: { ...invocation, root, extraGlobalArgs: [] },
    args: ['--version'],
    logFile: join(options.stateDir, 'runtime-version.log'),
    timeoutMs: 30_000,
  });
  if (!probe.ok) {
    throw new SalvoError(
      'ERR_RUNTIME_NOT_FOUND',
      `${path} --version failed, so it is not a usable OCI runtime: ${probe.error?.message ?? 'no output'}`,
    );
  }
  const flavour = runtimeFlavour(probe.stdout);
  let namespace: HybridCgroupNamespace | null = null;
  if (flavour === 'crun' && options.crunHybridWorkaround === 'auto' && hostHasHybridControllers()) {
    namespace = await HybridCgroupNamespace.start(options.stateDir);
    options.logger.info(
      { runtime: path, namespaceHolder: namespace.pid },
      'crun runs in a private mount namespace: this hybrid cgroup host has cgroup2 controllers crun 1.8 refuses',
    );
  }
  // Every runtime command dies with the launcher, and enters crun's namespace when there is one:
  // through the addon's spawner on the hot path (spawner 'native'), else through salvo-exec.
  invocation.file = execHelper;
  invocation.prefix = execHelperArgs(path, namespace?.mountNamespace ?? null);
  invocation.native = options.spawner === 'native' ? { path, mountNamespace: namespace?.mountNamespace ?? null } : null;
  return { invocation, path, flavour, version: probe.stdout.split('\n')[0] ?? '', namespace };
}

/** salvo-exec's arguments before the runtime's own: our pid, the namespace to enter or '-', the runtime. */
export function execHelperArgs(runtimePath: string, mountNamespace: string | null): string[] {
  return [String(process.pid), mountNamespace ?? '-', runtimePath];
}
