// The docker-familiar flags of `salvo run` (-v, --mount, --tmpfs, -u, --hostname, --network,
// --memory, --cpus, --pids-limit, --read-only, --cap-add/--cap-drop) and the aliases -w/--workdir
// and --name: declared once, turned into StartSpec fields that the launcher validates.
import { Command, Option } from 'commander';
import type { NetworkMode, StartSpec } from '../types.js';
import { logLimitBytes } from '../launcher/sizes.js';
import { collect } from './env-option.js';
import { UsageError } from './exit-codes.js';

export interface ContainerFlags {
  volume: string[];
  mount: string[];
  tmpfs: string[];
  user?: string;
  hostname?: string;
  network?: NetworkMode;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  readOnly?: boolean;
  capAdd: string[];
  capDrop: string[];
  logLimit?: string;
}

export function addContainerFlags(command: Command): Command {
  return command
    .option('-v, --volume <SRC:DST[:ro]>', 'bind-mount a host path into the container (repeatable)', collect, [])
    .option('--mount <type=bind,src=…,dst=…[,readonly]>', 'a bind or tmpfs mount, docker --mount syntax (repeatable)', collect, [])
    .option('--tmpfs <DST[:OPTIONS]>', 'mount a tmpfs at DST, e.g. /run:size=64m (repeatable)', collect, [])
    .option('-u, --user <UID[:GID]|NAME[:GROUP]>', "user to run as (names from the rootfs's /etc/passwd and /etc/group)")
    .option('--hostname <name>', "the container's hostname")
    .addOption(
      new Option('--network <mode>', "none: a private network with only lo (default bundle); host: the host's network").choices(['none', 'host']),
    )
    .option('-m, --memory <size>', 'memory limit: bytes, or 512m, 2g…')
    .option('--cpus <n>', 'CPU limit, e.g. 1.5')
    .option('--pids-limit <n>', 'most processes the container may hold')
    .option('--read-only', 'mount the root filesystem read-only (with --image: no overlay, a tmpfs on /tmp)')
    .option('--cap-add <cap>', 'add a capability: CHOWN, NET_RAW…, or ALL (repeatable)', collect, [])
    .option('--cap-drop <cap>', 'drop a capability, or ALL (repeatable)', collect, [])
    .option('--log-limit <size>', LOG_LIMIT_HELP);
}

/** The StartSpec fields the flags ask for (undefined for the ones not given). */
export function containerFields(flags: ContainerFlags): Partial<StartSpec> {
  const fields: Partial<StartSpec> = {};
  if (flags.volume.length > 0) fields.volumes = flags.volume;
  if (flags.mount.length > 0) fields.mounts = flags.mount;
  if (flags.tmpfs.length > 0) fields.tmpfs = flags.tmpfs;
  if (flags.user !== undefined) fields.user = flags.user;
  if (flags.hostname !== undefined) fields.hostname = flags.hostname;
  if (flags.network !== undefined) fields.network = flags.network;
  if (flags.memory !== undefined) fields.memory = /^\d+$/.test(flags.memory) ? Number(flags.memory) : flags.memory;
  if (flags.cpus !== undefined) fields.cpus = number(flags.cpus, '--cpus');
  if (flags.pidsLimit !== undefined) fields.pidsLimit = number(flags.pidsLimit, '--pids-limit');
  if (flags.readOnly === true) fields.readOnly = true;
  if (flags.capAdd.length > 0) fields.capAdd = flags.capAdd;
  if (flags.capDrop.length > 0) fields.capDrop = flags.capDrop;
  if (flags.logLimit !== undefined) fields.logLimit = logLimitField(flags.logLimit);
  return fields;
}

export const LOG_LIMIT_HELP =
  'most bytes kept of each of stdout.log and stderr.log: 16m (default), 1g…, 0 for no limit; the tail is kept under a marker';

/** --log-limit as a job's logLimit field (checked as the launcher will, so a bad one is usage at once). */
export function logLimitField(text: string): number | string {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : text;
  logLimitBytes(value);
  return value;
}

function number(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} takes a number, got "${text}"`);
  return value;
}

/** An option given under two names (--cwd and -w/--workdir, --id and --name): one value, or a clear error. */
export function eitherName(a: string | undefined, b: string | undefined, names: string): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError(`${names} name the same thing: give one`);
  return a ?? b;
}
