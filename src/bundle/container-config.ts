// A start's docker-familiar options (mounts, user, hostname, network, limits, read-only root,
// capabilities) applied to a derived config: called by deriveConfig alone, on its own copies.
import { lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerOptions, MountEntry } from '../types.js';
import { kernelCapabilities } from './capabilities.js';
import { resolveUser } from './rootfs-user.js';

type Json = Record<string, unknown>;

const CAPABILITY_SETS = ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const;
const CPU_PERIOD_US = 100_000;

/**
 * Applies `options` to `config` (a shallow copy whose `process` is already its own) in place;
 * `envGiven` are the env keys the start set itself (a user's HOME does not replace those).
 */
export function applyContainerOptions(config: Json, rootfs: string, options: ContainerOptions, envGiven: ReadonlySet<string>): void {
  const process = config.process as Json;
  if (options.mounts !== undefined)
    config.mounts = [...(Array.isArray(config.mounts) ? (config.mounts as Json[]) : []), ...options.mounts.map(copyMount)];
  if (options.user !== undefined) {
    const { user, home } = resolveUser(rootfs, options.user);
    process.user = user;
    if (home !== null && !envGiven.has('HOME')) process.env = [...envList(process).filter((e) => !e.startsWith('HOME=')), `HOME=${home}`];
  }
  if (options.readOnly !== undefined) config.root = { ...(config.root as Json), readonly: options.readOnly };
  if (options.capAdd !== undefined || options.capDrop !== undefined) process.capabilities = capabilities(process.capabilities, options);
  const linux: Json = { ...((config.linux as Json | undefined) ?? {}) };
  if (options.network !== undefined || options.hostname !== undefined) linux.namespaces = namespaces(linux.namespaces, options);
  if (options.hostname !== undefined) config.hostname = options.hostname;
  if (options.network === 'host') config.mounts = [...((config.mounts as Json[] | undefined) ?? []), ...hostNetworkFiles(rootfs, config.mounts)];
  if (options.memoryBytes !== undefined || options.cpus !== undefined || options.pidsLimit !== undefined)
    linux.resources = resources(linux.resources, options);
  config.linux = linux;
}

/** With the host's network, its resolver and hosts files (read-only), where the rootfs has a file to mount them on. */
function hostNetworkFiles(rootfs: string, mounts: unknown): MountEntry[] {
  const taken = new Set((Array.isArray(mounts) ? (mounts as Json[]) : []).map((mount) => mount.destination));
  return ['/etc/resolv.conf', '/etc/hosts']
    .filter((file) => !taken.has(file) && isFile(lstatSync, join(rootfs, file)) && isFile(statSync, file))
    .map((file) => ({ destination: file, type: 'bind', source: file, options: ['rbind', 'rprivate', 'ro'] }));
}

/** In the rootfs, lstat (its symlinks are not ours to follow); on the host, stat. */
function isFile(stat: typeof statSync, path: string): boolean {
  try {
    return stat(path).isFile();
  } catch {
    return false;
  }
}

function copyMount(mount: MountEntry): MountEntry {
  return { ...mount, options: [...mount.options] };
}

function envList(process: Json): string[] {
  return Array.isArray(process.env) ? (process.env as string[]) : [];
}

/** Drops first (ALL clears), then adds, in every set the config has (bounding, effective, permitted at least). */
function capabilities(current: unknown, options: ContainerOptions): Json {
  const base = (typeof current === 'object' && current !== null ? current : {}) as Record<string, unknown>;
  const known = kernelCapabilities();
  const drop = options.capDrop ?? [];
  const add = (options.capAdd ?? []).flatMap((cap) => (cap === 'ALL' ? known : [cap]));
  const result: Json = {};
  for (const set of CAPABILITY_SETS) {
    const list = Array.isArray(base[set]) ? (base[set] as string[]) : null;
    if (list === null && set !== 'bounding' && set !== 'effective' && set !== 'permitted') continue;
    const kept = drop.includes('ALL') ? [] : (list ?? []).filter((cap) => !drop.includes(cap));
    result[set] = [...new Set([...kept, ...add])];
  }
  return result;
}

/** network: 'host' leaves the network namespace out, 'none' makes sure there is one; a hostname needs a UTS one. */
function namespaces(current: unknown, options: ContainerOptions): Json[] {
  let list = Array.isArray(current) ? (current as Json[]).map((ns) => ({ ...ns })) : [];
  if (options.network === 'host') list = list.filter((ns) => ns.type !== 'network');
  if (options.network === 'none' && !list.some((ns) => ns.type === 'network')) list.push({ type: 'network' });
  if (options.hostname !== undefined && !list.some((ns) => ns.type === 'uts')) list.push({ type: 'uts' });
  return list;
}

function resources(current: unknown, options: ContainerOptions): Json {
  const result: Json = { ...((current as Json | undefined) ?? {}) };
  if (options.memoryBytes !== undefined) result.memory = { ...((result.memory as Json | undefined) ?? {}), limit: options.memoryBytes };
  if (options.cpus !== undefined) {
    result.cpu = { ...((result.cpu as Json | undefined) ?? {}), quota: Math.round(options.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US };
  }
  if (options.pidsLimit !== undefined) result.pids = { limit: options.pidsLimit };
  return result;
}
