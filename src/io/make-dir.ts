// mkdir -p without Node's recursive mkdir, which spins forever on some paths (`/proc/nope`: the
// kernel says ENOENT for the leaf, Node retries the parent, which exists, and so on), and with an
// error that says what is in the way.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes `path` and its missing parents (mode for the new ones); throws an Error naming the cause. */
export function makeDirectory(path: string, mode = 0o700): void {
  const missing: string[] = [];
  let dir = resolve(path);
  for (;;) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a directory`);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      missing.push(dir);
      if (dirname(dir) === dir) throw error;
      dir = dirname(dir);
    }
  }
  for (const each of missing.reverse()) {
    try {
      mkdirSync(each, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made by another process meanwhile
      throw new Error(
        `cannot create ${each}: ${code ?? (error as Error).message}${code === 'ENOENT' ? ` (${dirname(each)} takes no new directories)` : ''}`,
      );
    }
  }
}
