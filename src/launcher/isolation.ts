// What the launcher asks of every container it starts (DESIGN §12, §13), kept apart from the
// lifecycle so that it reads in one place: its own cgroup under the state directory's parent,
// whether a bundle may bring OCI hooks, and salvo's init as pid 1 of its own pid namespace.
import { initStatusDir } from '../io/init-status.js';
import { containerCgroupPath } from '../io/cgroups.js';
import { initHelperPath } from '../native.js';
import type { ContainerIsolation } from '../types.js';
import type { NormalizedOptions } from './options.js';
import type { NormalizedStart } from './validate.js';

/**
 * The isolation of container `id` of a state directory. With the systemd cgroup driver
 * (`--systemd-cgroup` in runtimeArgs) a cgroupsPath means slice:prefix:name: salvo sets none there.
 * init defaults to true for salvo's own spec (`ownSpec`: the default bundle, an image) unless the
 * host's pid namespace is shared, and to false for a bundle of the user's.
 */
export function isolationFor(
  options: NormalizedOptions,
  start: Pick<NormalizedStart, 'id' | 'init' | 'hostPid' | 'logLimit' | 'stdio'>,
  dir: string,
  ownSpec: boolean,
): ContainerIsolation {
  const systemd = options.runtimeArgs.includes('--systemd-cgroup');
  const init = start.init ?? (ownSpec && !start.hostPid);
  return {
    cgroupsPath: systemd ? null : containerCgroupPath(options.stateDir, start.id),
    refuseHooks: options.bundleHooks === 'refuse',
    // With log files, the init copies the command's output into them and keeps them near the limit.
    init: init ? { binary: initHelperPath(), statusDir: initStatusDir(dir), logLimit: start.stdio === 'log' ? start.logLimit : 0 } : null,
    hostPid: start.hostPid,
  };
}
