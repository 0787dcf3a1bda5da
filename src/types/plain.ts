// Plain data that both the API and the worker protocol (src/worker/protocol.ts) use.
import type { ContainerOptions, ProcessUser } from './start.js';

/**
 * How to invoke the runtime: `file` with `prefix` args (a namespace wrapper, or nothing), then
 * `--root root --log <dir>/log.json --log-format json`, then `extraGlobalArgs`, then one verb.
 */
export interface RuntimeInvocation {
  file: string;
  prefix: string[];
  root: string;
  extraGlobalArgs: string[];
  /**
   * Set when hot-path commands are spawned by the addon (spawner 'native'): the runtime binary and
   * the mount namespace to enter; `file` and `prefix` (salvo-exec) still serve every other command.
   */
  native?: { path: string; mountNamespace: string | null } | null;
}

export interface ProcessOverride {
  args?: string[];
  env?: string[];
  cwd?: string;
  terminal?: boolean;
  /** OCI process.consoleSize: the runtime sets it before the process runs. */
  consoleSize?: { height: number; width: number };
  user?: ProcessUser;
  /** A start's docker-familiar fields (mounts, user, limits…): only deriveConfig reads them. */
  container?: ContainerOptions;
}

/** How a worker mounts and detaches an image's overlay where the runtime runs (src/image/mount.ts). */
export interface MountHelper {
  /** salvo-exec, used when the namespace is not the launcher's own; null: always the addon. */
  file: string | null;
  /** salvo-exec's launcher pid and mount namespace ('-': the launcher's own, where the addon mounts). */
  prefix: string[];
  /** The mountinfo file of that namespace. */
  mountinfo: string;
}

/** A start from a cached image: an overlay over `lower` in the process directory, or `lower` read-only. */
export interface ImageRootfs {
  lower: string;
  readOnly: boolean;
  mount: MountHelper;
}

/** What salvo sets on every container it starts unless the bundle sets it itself (DESIGN §13). */
export interface ContainerIsolation {
  /** linux.cgroupsPath for a bundle that names none; null leaves the runtime's default. */
  cgroupsPath: string | null;
  /** Refuse a bundle whose config has OCI hooks (they run on the host, as root). */
  refuseHooks: boolean;
  /** salvo-init as pid 1 (null: none): its host path, and the process directory's dir it writes the command's status to. */
  init: { binary: string; statusDir: string; logLimit: number } | null;
  /** Drop the bundle's pid namespace (the host's is shared). */
  hostPid: boolean;
}

export interface PlainError {
  code: string;
  message: string;
}
