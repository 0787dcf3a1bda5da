// salvo-init in a container's config (DESIGN §12): bind-mounted read-only as the process, with a
// writable directory of the process directory where it leaves the command's real wait status.
import type { ContainerIsolation } from '../types.js';
import { commandInRootfs } from './command-lookup.js';

type Json = Record<string, unknown>;
type Init = NonNullable<ContainerIsolation['init']>;

/** Where salvo-init is mounted in a container: /dev is the runtime's tmpfs, so no rootfs is written. */
export const INIT_PATH = '/dev/.salvo-init';
/** Where its status directory is mounted (it writes `status` there). */
export const INIT_STATUS_MOUNT = '/dev/.salvo-status';

/** The command runs under salvo-init (pid 1 of the container's pid namespace); the other mounts stay. */
export function withInit(config: Json, init: Init): Json {
  const process = (config.process as Json | undefined) ?? {};
  const args = Array.isArray(process.args) ? (process.args as string[]) : [];
  const mounts = Array.isArray(config.mounts) ? (config.mounts as Json[]) : [];
  return {
    ...config,
    process: {
      ...process,
      args: [INIT_PATH, '--status-dir', INIT_STATUS_MOUNT, ...(init.logLimit > 0 ? ['--log-limit', String(init.logLimit)] : []), '--', ...args],
    },
    mounts: [
      ...mounts,
      { destination: INIT_PATH, type: 'bind', source: init.binary, options: ['bind', 'ro', 'nosuid', 'nodev'] },
      { destination: INIT_STATUS_MOUNT, type: 'bind', source: init.statusDir, options: ['bind', 'rw', 'nosuid', 'nodev', 'noexec'] },
    ],
  };
}

/** The host's pid namespace, asked for explicitly: the bundle's own pid namespace goes. */
export function withoutPidNamespace(config: Json): Json {
  const linux = config.linux as Json | undefined;
  if (!Array.isArray(linux?.namespaces) || !(linux.namespaces as Json[]).some((n) => n.type === 'pid')) return config;
  return { ...config, linux: { ...linux, namespaces: (linux.namespaces as Json[]).filter((n) => n.type !== 'pid') } };
}

/**
 * The isolation to derive a config with: without the init when the command is not in the rootfs,
 * so that the runtime itself refuses the start as it does without an init ("not found" fails the
 * start, it does not become an exit 127 of salvo-init). `config` is the derived one, its root.path
 * absolute.
 */
export function initIfCommandFound(isolation: ContainerIsolation | null, config: Json, imageLower?: string): ContainerIsolation | null {
  if (isolation?.init == null) return isolation;
  // An image's overlay is fresh: its lower directory holds what the container sees.
  const rootfs = imageLower ?? ((config.root as Json).path as string);
  const process = (config.process as Json | undefined) ?? {};
  const args = process.args as string[];
  const env = Array.isArray(process.env) ? (process.env as string[]) : [];
  const cwd = typeof process.cwd === 'string' && process.cwd !== '' ? process.cwd : '/';
  return commandInRootfs(rootfs, args[0] as string, env, cwd) ? isolation : { ...isolation, init: null };
}
