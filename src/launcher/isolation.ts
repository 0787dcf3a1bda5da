// What the launcher asks of every container it starts (DESIGN §13), kept apart from the lifecycle
// so that it reads in one place: its own cgroup under the state directory's parent, and whether
// a bundle may bring OCI hooks.
import { containerCgroupPath } from '../io/cgroups.js';
import type { ContainerIsolation } from '../types.js';
import type { NormalizedOptions } from './options.js';

/**
 * The isolation of container `id` of a state directory. With the systemd cgroup driver
 * (`--systemd-cgroup` in runtimeArgs) a cgroupsPath means slice:prefix:name: salvo sets none there.
 */
export function isolationFor(options: NormalizedOptions, id: string): ContainerIsolation {
  const systemd = options.runtimeArgs.includes('--systemd-cgroup');
  return {
    cgroupsPath: systemd ? null : containerCgroupPath(options.stateDir, id),
    refuseHooks: options.bundleHooks === 'refuse',
  };
}
