// Validation of a start's docker-familiar fields (volumes, mounts, tmpfs, user, hostname, network,
// limits, capabilities) into plain ContainerOptions; every error is ERR_INVALID_SPEC naming the field.
import { statSync } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import { CAPABILITIES } from '../bundle/capabilities.js';
import type { ContainerOptions, MountEntry, NetworkMode, StartSpec, UserRef } from '../types.js';
import { memoryBytes } from './sizes.js';
import { bad, stringArray } from './spec-check.js';

const NETWORKS: readonly NetworkMode[] = ['none', 'host'];
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62})$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const MOUNT_OPTION = /^[A-Za-z0-9_.=-]+$/;
/** The container options a start spec asks for, or null when it asks for none. */
export function normalizeContainerOptions(spec: StartSpec): ContainerOptions | null {
  const options: ContainerOptions = {};
  const mounts = [
    ...(spec.volumes === undefined ? [] : stringArray('volumes', spec.volumes, true).map((v, i) => volumeMount(`volumes[${i}]`, v))),
    ...(spec.mounts === undefined ? [] : stringArray('mounts', spec.mounts, true).map((m, i) => mountFromFlag(`mounts[${i}]`, m))),
    ...(spec.tmpfs === undefined ? [] : stringArray('tmpfs', spec.tmpfs, true).map((t, i) => tmpfsMount(`tmpfs[${i}]`, t))),
  ];
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (seen.has(mount.destination)) throw bad('mounts', mount.destination, 'a destination mounted once (it is given twice)');
    seen.add(mount.destination);
  }
  if (mounts.length > 0) options.mounts = mounts;
  if (spec.user !== undefined) options.user = userRef(spec.user);
  if (spec.hostname !== undefined) {
    if (typeof spec.hostname !== 'string' || !HOSTNAME.test(spec.hostname))
      throw bad('hostname', spec.hostname, 'a hostname of 1-63 letters, digits, . and -');
    options.hostname = spec.hostname;
  }
  if (spec.network !== undefined) {
    if (!NETWORKS.includes(spec.network)) {
      const hint = spec.network === ('bridge' as string) ? ' (salvo has no bridge network: "none" is a private one with only lo)' : '';
      throw bad('network', spec.network, `"none" or "host"${hint}`);
    }
    options.network = spec.network;
  }
  if (spec.memory !== undefined) options.memoryBytes = memoryBytes(spec.memory);
  if (spec.cpus !== undefined) {
    if (typeof spec.cpus !== 'number' || !(spec.cpus >= 0.01 && spec.cpus <= 1024))
      throw bad('cpus', spec.cpus, 'a number of CPUs from 0.01 to 1024');
    options.cpus = spec.cpus;
  }
  if (spec.pidsLimit !== undefined) {
    if (!Number.isSafeInteger(spec.pidsLimit) || spec.pidsLimit < 1) throw bad('pidsLimit', spec.pidsLimit, 'an integer ≥ 1');
    options.pidsLimit = spec.pidsLimit;
  }
  // With an image, readOnly says how its rootfs is mounted (validate.ts), not root.readonly.
  if (spec.readOnly !== undefined && spec.image === undefined) {
    if (typeof spec.readOnly !== 'boolean') throw bad('readOnly', spec.readOnly, 'a boolean');
    options.readOnly = spec.readOnly;
  }
  if (spec.capAdd !== undefined) options.capAdd = capabilities('capAdd', spec.capAdd);
  if (spec.capDrop !== undefined) options.capDrop = capabilities('capDrop', spec.capDrop);
  return Object.keys(options).length > 0 ? options : null;
}

/** docker -v: SRC:DST[:ro|rw]. */
function volumeMount(field: string, text: string): MountEntry {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '')
    throw bad(field, text, 'SRC:DST or SRC:DST:ro (a host path, then a path in the container)');
  const flags = parts[2] === undefined ? [] : parts[2].split(',');
  for (const flag of flags) if (flag !== 'ro' && flag !== 'rw') throw bad(field, text, 'SRC:DST with :ro or :rw as its only option');
  return bindMount(field, parts[0] as string, parts[1] as string, flags.includes('ro'));
}

/** docker --mount: type=bind,src=…,dst=…[,readonly] or type=tmpfs,dst=…[,tmpfs-size=…][,tmpfs-mode=…]. */
function mountFromFlag(field: string, text: string): MountEntry {
  const keys = new Map<string, string>();
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    keys.set(key, eq < 0 ? 'true' : item.slice(eq + 1));
  }
  const get = (...names: string[]): string | undefined => names.map((name) => keys.get(name)).find((value) => value !== undefined);
  for (const key of keys.keys()) {
    const known = ['type', 'src', 'source', 'dst', 'destination', 'target', 'readonly', 'ro', 'tmpfs-size', 'tmpfs-mode'];
    if (!known.includes(key)) throw bad(field, text, `type=…,src=…,dst=… with keys among ${known.join(', ')} (unknown "${key}")`);
  }
  const type = get('type');
  const destination = get('dst', 'destination', 'target');
  if (destination === undefined) throw bad(field, text, 'a mount with dst=PATH (or destination=, target=)');
  const readonly = get('readonly', 'ro');
  const isReadonly = readonly === undefined ? false : readonly === 'true' || readonly === '1';
  if (readonly !== undefined && !['true', 'false', '1', '0'].includes(readonly)) throw bad(field, text, 'readonly without a value or =true/=false');
  if (type === 'bind') {
    const source = get('src', 'source');
    if (source === undefined) throw bad(field, text, 'a bind mount with src=HOST_PATH');
    return bindMount(field, source, destination, isReadonly);
  }
  if (type === 'tmpfs') {
    const extra: string[] = [];
    const size = get('tmpfs-size');
    if (size !== undefined) extra.push(`size=${memoryBytes(size, `${field} tmpfs-size`)}`);
    const mode = get('tmpfs-mode');
    if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw bad(field, text, 'tmpfs-mode as octal digits such as 1777');
    return tmpfsEntry(field, destination, [...extra, ...(mode === undefined ? [] : [`mode=${mode}`]), ...(isReadonly ? ['ro'] : [])]);
  }
  throw bad(field, text, 'a mount with type=bind or type=tmpfs (salvo has no named volumes)');
}

/** --tmpfs DST[:OPTIONS], OPTIONS as mount(8) takes them (size=64m,mode=1777,noexec…). */
function tmpfsMount(field: string, text: string): MountEntry {
  const colon = text.indexOf(':');
  const destination = colon < 0 ? text : text.slice(0, colon);
  const options = colon < 0 ? [] : text.slice(colon + 1).split(',');
  for (const option of options) if (!MOUNT_OPTION.test(option)) throw bad(field, text, 'DST or DST:OPTIONS with options such as size=64m,mode=1777');
  return tmpfsEntry(field, destination, options);
}

function tmpfsEntry(field: string, destination: string, options: string[]): MountEntry {
  const named = (key: string): boolean => options.some((option) => option.startsWith(`${key}=`));
  const defaults = ['nosuid', 'nodev', ...(named('mode') ? [] : ['mode=1777'])];
  return { destination: containerPath(field, destination), type: 'tmpfs', source: 'tmpfs', options: [...defaults, ...options] };
}

function bindMount(field: string, source: string, destination: string, readonly: boolean): MountEntry {
  if (!source.startsWith('/') && !source.startsWith('.')) {
    throw bad(field, source, 'a host path, absolute or starting with ./ (salvo has no named volumes)');
  }
  const hostPath = resolve(source);
  try {
    statSync(hostPath);
  } catch {
    throw bad(`${field} source`, source, `a path that exists on the host (${hostPath} does not)`);
  }
  return { destination: containerPath(field, destination), type: 'bind', source: hostPath, options: ['rbind', 'rprivate', readonly ? 'ro' : 'rw'] };
}

/** An absolute, normalized path in the container other than /. */
function containerPath(field: string, path: string): string {
  if (!isAbsolute(path) || path.includes('\0')) throw bad(`${field} destination`, path, 'an absolute path in the container');
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (normal === '') throw bad(`${field} destination`, path, 'a path other than /');
  return normal;
}

/** 'UID[:GID]', 'NAME[:GROUP]', a uid, or { uid, gid, additionalGids }. */
function userRef(value: unknown): UserRef {
  if (typeof value === 'number') {
    if (!isId(value)) throw bad('user', value, 'a uid (an integer from 0 to 2^32-2)');
    return { user: value };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { uid, gid, additionalGids } = value as { uid?: unknown; gid?: unknown; additionalGids?: unknown };
    const gids = additionalGids === undefined ? [] : Array.isArray(additionalGids) ? additionalGids : [Number.NaN];
    if (!isId(uid) || !isId(gid) || !gids.every(isId)) throw bad('user', value, '{ uid, gid, additionalGids? } with integer ids');
    return { user: uid, group: gid, ...(additionalGids === undefined ? {} : { additionalGids: gids as number[] }) };
  }
  if (typeof value !== 'string') throw bad('user', value, 'UID[:GID] or NAME[:GROUP]');
  const parts = value.split(':');
  const parsed = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  const valid = (part: string | number): boolean => (typeof part === 'number' ? isId(part) : NAME.test(part));
  if (parts.length > 2 || !parsed.every(valid)) throw bad('user', value, 'UID[:GID] or NAME[:GROUP] (names as in /etc/passwd)');
  return parsed[1] === undefined ? { user: parsed[0] as string | number } : { user: parsed[0] as string | number, group: parsed[1] };
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32 - 1;
}

function capabilities(field: string, value: unknown): string[] {
  return stringArray(field, value, true).map((name) => {
    const upper = name.toUpperCase();
    const full = upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (full !== 'ALL' && !CAPABILITIES.includes(full)) throw bad(field, name, 'capability names such as CHOWN or CAP_NET_RAW, or ALL');
    return full;
  });
}
