// Whether the runtime will find a container's command, decided on the host before the start:
// PATH searched as runc and crun do, symlinks resolved inside the rootfs (an absolute link points
// into the rootfs, `..` stops at its root), never through the host's own directories.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 40; // the kernel's limit too

/** The host path of `path` resolved inside `root` as the container would see it; null when a component is missing. */
export function resolveInRoot(root: string, path: string): string | null {
  const pending = path.split('/').reverse();
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.pop() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    let link: string | null;
    try {
      link = lstatSync(host).isSymbolicLink() ? readlinkSync(host) : null;
    } catch {
      return null;
    }
    if (link === null) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) return null;
    if (link.startsWith('/')) resolved.length = 0;
    pending.push(...link.split('/').reverse());
  }
  return join(root, ...resolved);
}

function isExecutableFile(hostPath: string | null): boolean {
  if (hostPath === null) return false;
  try {
    const stat = statSync(hostPath); // every link was resolved inside the root: this follows none
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * True when `command` names an executable file of the rootfs: a name with a slash from `cwd`, a
 * bare name through the process's PATH (the container's env, not the host's).
 */
export function commandInRootfs(root: string, command: string, env: readonly string[], cwd: string): boolean {
  if (command.includes('/')) return isExecutableFile(resolveInRoot(root, command.startsWith('/') ? command : `${cwd}/${command}`));
  const path = [...env].reverse().find((entry) => entry.startsWith('PATH='));
  if (path === undefined) return false;
  return path
    .slice('PATH='.length)
    .split(':')
    .some((dir) => isExecutableFile(resolveInRoot(root, `${dir === '' ? cwd : dir.startsWith('/') ? dir : `${cwd}/${dir}`}/${command}`)));
}
