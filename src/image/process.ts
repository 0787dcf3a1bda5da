// The image config as the container's process: Env, Entrypoint + Cmd (docker's rules for
// overriding them), WorkingDir, User (names looked up in the image's own /etc/passwd and /etc/group).
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PATH_ENV } from '../bundle/default-spec.js';
import { SalvoError } from '../errors.js';
import type { ProcessUser } from '../types.js';

/** What salvo keeps of an image config (written beside the cached rootfs). */
export interface ImageProcess {
  env: string[];
  entrypoint: string[];
  cmd: string[];
  cwd: string;
  user: ProcessUser;
  labels: Record<string, string>;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Reads the config's process fields and resolves User against the unpacked rootfs. */
export function imageProcess(config: Record<string, unknown>, rootfs: string, image: string): ImageProcess {
  const c = (config.config ?? {}) as Record<string, unknown>;
  const env = strings(c.Env);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH_ENV); // as docker does
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries((c.Labels ?? {}) as Record<string, unknown>)) if (typeof value === 'string') labels[key] = value;
  const cwd = typeof c.WorkingDir === 'string' && c.WorkingDir !== '' ? c.WorkingDir : '/';
  return {
    env,
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    cwd,
    user: resolveUser(typeof c.User === 'string' ? c.User : '', rootfs, image),
    labels,
  };
}

/** docker's rule: args replace Cmd; an entrypoint replaces Entrypoint and drops the image's Cmd. */
export function imageArgs(process: ImageProcess, args: string[] | undefined, entrypoint: string[] | undefined, image: string): string[] {
  const head = entrypoint ?? process.entrypoint;
  const tail = args ?? (entrypoint !== undefined ? [] : process.cmd);
  const all = [...head, ...tail];
  if (all.length === 0) {
    throw new SalvoError('ERR_INVALID_SPEC', `image ${image} has no Entrypoint or Cmd: give the job args`, { details: { image } });
  }
  return all;
}

interface DbEntry {
  name: string;
  id: number;
  gid: number;
  members: string[];
}

/** USER as docker reads it: name|uid[:group|gid]; a user's extra groups are those listing it as a member. */
export function resolveUser(spec: string, rootfs: string, image: string): ProcessUser {
  if (spec === '') return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = readDb(rootfs, 'passwd');
  const groups = readDb(rootfs, 'group');
  const numeric = /^\d+$/.test(userPart);
  const entry = passwd.find((p) => (numeric ? p.id === Number(userPart) : p.name === userPart));
  if (entry === undefined && !numeric) {
    throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: user ${JSON.stringify(userPart)} is not in its /etc/passwd`, { details: { image } });
  }
  const uid = entry?.id ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((g) => g.name === groupPart);
      if (group === undefined) {
        throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: group ${JSON.stringify(groupPart)} is not in its /etc/group`, {
          details: { image },
        });
      }
      gid = group.id;
    }
  }
  const name = entry?.name;
  const additionalGids =
    groupPart !== undefined || name === undefined ? [] : groups.filter((g) => g.members.includes(name) && g.id !== gid).map((g) => g.id);
  return additionalGids.length === 0 ? { uid, gid } : { uid, gid, additionalGids };
}

/** /etc/passwd or /etc/group of the rootfs; a symlink on the way is not followed (it could point at the host's). */
function readDb(rootfs: string, name: 'passwd' | 'group'): DbEntry[] {
  for (const path of [join(rootfs, 'etc'), join(rootfs, 'etc', name)]) {
    try {
      if (lstatSync(path).isSymbolicLink()) return [];
    } catch {
      return [];
    }
  }
  const text = readFileSync(join(rootfs, 'etc', name), 'utf8');
  const entries: DbEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || line.startsWith('#')) continue;
    const id = Number(fields[2]);
    if (!Number.isInteger(id) || id < 0) continue;
    if (name === 'passwd') entries.push({ name: fields[0] as string, id, gid: Number(fields[3] ?? 0) || 0, members: [] });
    else entries.push({ name: fields[0] as string, id, gid: id, members: (fields[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return entries;
}
