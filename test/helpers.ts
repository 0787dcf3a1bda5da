// Shared test helpers: temporary state directories, the runtimes under test, process checks.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher } from '../src/index.js';
import type { LauncherOptions } from '../src/index.js';
import { readMountinfo } from '../src/image/mountinfo.js';
import { native } from '../src/native.js';

/** Runtimes the e2e tests run against: SALVO_TEST_RUNTIMES=runc,crun (default both). */
export const RUNTIMES: readonly string[] = (process.env.SALVO_TEST_RUNTIMES ?? 'runc,crun')
  .split(',')
  .map((r) => r.trim())
  .filter((r) => r !== '');

const made: string[] = [];

export function tempDir(prefix = 'salvo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    detachMountsUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a SIGKILLed crun launcher leaves mounted (salvo's shared bind of containers/, DESIGN §12): a user would umount it too. */
function detachMountsUnder(dir: string): void {
  const points = readMountinfo('/proc/self/mountinfo')
    .map((entry) => entry.point)
    .filter((point) => point.startsWith(`${dir}/`));
  for (const point of points.sort().reverse()) {
    try {
      native().unmountDetach(point);
    } catch {
      // already gone with its parent
    }
  }
}

export async function openLauncher(runtime: string, options: LauncherOptions = {}): Promise<Launcher> {
  return Launcher.open({ stateDir: join(tempDir(), 'state'), runtime, ...options });
}

/**
 * Ids of the containers the runtime knows under the launcher's --root. crun's list fails when a
 * container it found goes before it reads its status (an earlier test's deletes still running):
 * that listing is asked again, any other failure thrown.
 */
export function runtimeContainers(launcher: Launcher): string[] {
  const { path, root } = launcher.runtime;
  for (let attempt = 1; ; attempt++) {
    let out: string;
    try {
      out = execFileSync(path, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (error) {
      const vanished = /error opening file `[^`]*\/status`: No such file or directory/.test(String((error as { stderr?: unknown }).stderr));
      if (!vanished || attempt === 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // a sync helper: 20 ms before asking again
      continue;
    }
    if (out === '' || out === 'null') return [];
    return (JSON.parse(out) as { id: string }[]).map((c) => c.id);
  }
}

/** This process's children (any thread) that are zombies. */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let text = '';
    try {
      text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of text.split(' ').filter((p) => p.trim() !== '')) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) zombies.push(Number(pid));
      } catch {
        // gone
      }
    }
  }
  return zombies;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit any part of an OCI config
type EditableConfig = Record<string, any>;

/** A bundle next to the default one whose config is changed by `edit` (rootfs shared, absolute). */
export async function derivedBundle(launcher: Launcher, edit: (config: EditableConfig) => void): Promise<string> {
  const base = await launcher.defaultBundle();
  const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as EditableConfig;
  config.root.path = join(base, 'rootfs');
  edit(config);
  const dir = tempDir('salvo-bundle-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The process directories of a container's runs (`containers/<id>/<execId>.<seq>`, DESIGN §4), oldest first. */
export function runDirs(stateDir: string, id: string, execId = 'init'): string[] {
  const dir = join(stateDir, 'containers', id);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${execId.replace(/\./g, '\\.')}\\.(\\d+)$`);
  return names
    .map((name) => ({ name, seq: Number(pattern.exec(name)?.[1] ?? NaN) }))
    .filter((n) => Number.isInteger(n.seq))
    .sort((a, b) => a.seq - b.seq)
    .map((n) => join(dir, n.name));
}

/** The newest run's process directory of a container ('' when it has none). */
export function lastRunDir(stateDir: string, id: string, execId = 'init'): string {
  return runDirs(stateDir, id, execId).at(-1) ?? '';
}

/** Writes `file` until its filesystem has no block left (ENOSPC): a full disk on demand. */
export function fillFilesystem(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}
