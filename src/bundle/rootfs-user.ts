// `--user NAME[:GROUP]` (and an image's USER) as docker resolves it: names (and a uid's primary
// group, home and supplementary groups) come from the rootfs's own /etc/passwd and /etc/group,
// never the host's: not through a symlink either.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';
import type { ProcessUser, UserRef } from '../types.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  user: ProcessUser;
  /** The passwd entry's home directory, for HOME; null when the uid has no entry. */
  home: string | null;
}

/** Makes the error for a user or group name the rootfs does not list. */
export type MissingName = (kind: 'user' | 'group', name: string) => SalvoError;

const notInRootfs =
  (rootfs: string): MissingName =>
  (kind, name) =>
    new SalvoError(
      'ERR_INVALID_SPEC',
      kind === 'user'
        ? `user "${name}" is not in the rootfs's /etc/passwd (${join(rootfs, 'etc/passwd')}): give a name it lists or a numeric uid`
        : `group "${name}" of user is not in the rootfs's /etc/group (${join(rootfs, 'etc/group')})`,
    );

export function resolveUser(rootfs: string, ref: UserRef, missing: MissingName = notInRootfs(rootfs)): ResolvedUser {
  const passwd = readTable(rootfs, 'passwd')
    .map(parsePasswd)
    .filter((entry): entry is PasswdEntry => entry !== null);
  const entry = typeof ref.user === 'number' ? passwd.find((e) => e.uid === ref.user) : passwd.find((e) => e.name === ref.user);
  if (entry === undefined && typeof ref.user === 'string') throw missing('user', ref.user);
  const uid = entry?.uid ?? (ref.user as number);
  const needGroups = typeof ref.group === 'string' || (ref.additionalGids === undefined && entry !== undefined);
  const groups = needGroups
    ? readTable(rootfs, 'group')
        .map(parseGroup)
        .filter((g): g is GroupEntry => g !== null)
    : [];
  let gid = entry?.gid ?? 0;
  if (typeof ref.group === 'number') gid = ref.group;
  else if (typeof ref.group === 'string') {
    const group = groups.find((g) => g.name === ref.group);
    if (group === undefined) throw missing('group', ref.group);
    gid = group.gid;
  }
  const additional =
    ref.additionalGids ?? (entry === undefined ? [] : groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid));
  const user: ProcessUser = additional.length > 0 ? { uid, gid, additionalGids: [...new Set(additional)] } : { uid, gid };
  return { user, home: entry?.home ?? null };
}

/** The lines of the rootfs's /etc/passwd or /etc/group; none through a symlink (it could be the host's). */
function readTable(rootfs: string, name: 'passwd' | 'group'): string[] {
  try {
    for (const path of [join(rootfs, 'etc'), join(rootfs, 'etc', name)]) if (lstatSync(path).isSymbolicLink()) return [];
    return readFileSync(join(rootfs, 'etc', name), 'utf8').split('\n');
  } catch {
    return []; // a rootfs without the file: numeric ids still work
  }
}

function parsePasswd(line: string): PasswdEntry | null {
  const fields = line.split(':');
  if (fields.length < 7 || !/^\d+$/.test(fields[2] ?? '') || !/^\d+$/.test(fields[3] ?? '')) return null;
  return { name: fields[0] as string, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] as string };
}

function parseGroup(line: string): GroupEntry | null {
  const fields = line.split(':');
  if (fields.length < 4 || !/^\d+$/.test(fields[2] ?? '')) return null;
  return { name: fields[0] as string, gid: Number(fields[2]), members: (fields[3] as string).split(',').filter((m) => m !== '') };
}
