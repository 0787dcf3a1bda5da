// The image config as the container's process: Env, Entrypoint + Cmd (docker's rules for
// overriding them), WorkingDir, User (names looked up in the image's own /etc/passwd and /etc/group).
import { DEFAULT_PATH_ENV } from '../bundle/default-spec.js';
import { resolveUser as resolveRootfsUser, type MissingName } from '../bundle/rootfs-user.js';
import { SalvoError } from '../errors.js';
import type { ProcessUser, UserRef } from '../types.js';

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

/** USER as docker reads it: name|uid[:group|gid]; a user's extra groups are those listing it as a member. */
export function resolveUser(spec: string, rootfs: string, image: string): ProcessUser {
  if (spec === '') return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const id = (part: string): string | number => (/^\d+$/.test(part) ? Number(part) : part);
  const ref: UserRef = { user: id(userPart) };
  if (groupPart !== undefined && groupPart !== '') ref.group = id(groupPart);
  if (groupPart !== undefined) ref.additionalGids = []; // USER u:g: g only, as docker
  const missing: MissingName = (kind, name) =>
    new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: ${kind} ${JSON.stringify(name)} is not in its /etc/${kind === 'user' ? 'passwd' : 'group'}`, {
      details: { image },
    });
  return resolveRootfsUser(rootfs, ref, missing).user;
}
