// One reader of /proc/<pid>/mountinfo (proc(5)): the fields salvo's mount code looks at.
import { readFileSync } from 'node:fs';

export interface MountEntry {
  id: number;
  parentId: number;
  /** major:minor of the filesystem. */
  device: string;
  /** The directory of that filesystem the mount shows (a bind mount's source). */
  root: string;
  point: string;
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  propagation: string[];
  fstype: string;
  superOptions: string;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
export const unescapeMountPath = (path: string): string =>
  path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** The mounts of a mountinfo file, in its order (a mount after its parent); [] when it is gone. */
export function readMountinfo(file: string): MountEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // the namespace is gone, and its mounts with it
  }
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2] ?? '',
      root: unescapeMountPath(fields[3] ?? ''),
      point: unescapeMountPath(fields[4] ?? ''),
      propagation: fields.slice(6, dash),
      fstype: fields[dash + 1] ?? '',
      superOptions: fields[dash + 3] ?? '',
    });
  }
  return entries;
}

/** True for a shared mount (a member of a peer group). */
export const isShared = (entry: MountEntry): boolean => entry.propagation.some((tag) => tag.startsWith('shared:'));
