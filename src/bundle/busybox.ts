// salvo's default bundle: a read-only busybox rootfs built from the host's static busybox,
// cached under the state directory and rebuilt when busybox or the spec changes, or when its
// config.json or busybox binary no longer hash to what was built.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SalvoError } from '../errors.js';
import { defaultSpec } from './default-spec.js';

const run = promisify(execFile);
const BUNDLE_FORMAT = 4; // bump when the rootfs layout or default spec changes
export const DEFAULT_BUSYBOX = '/bin/busybox';

/** True when an ELF file has no program interpreter (statically linked). */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) return false;
    if (header[4] !== 2 || header[5] !== 1) return false; // 64-bit little endian only
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list'], { maxBuffer: 1 << 20 });
  return stdout.split('\n').filter((name) => /^[a-z0-9_.[-]+$/.test(name) && name !== 'busybox');
}

/** sha256 of the bundle's config.json and its busybox binary: what a start runs. '' when either is missing. */
async function bundleDigest(bundle: string): Promise<string> {
  try {
    const hash = createHash('sha256');
    hash.update(await readFile(join(bundle, 'config.json')));
    hash.update(await readFile(join(bundle, 'rootfs', 'bin', 'busybox')));
    return hash.digest('hex');
  } catch {
    return '';
  }
}

/** Returns the default bundle's directory, building it first if needed (or when it was changed). */
export async function ensureBusyboxBundle(stateDir: string, busybox = DEFAULT_BUSYBOX): Promise<string> {
  const bundle = join(stateDir, 'bundles', 'busybox');
  let source;
  try {
    source = await stat(busybox);
  } catch {
    throw new SalvoError(
      'ERR_DEFAULT_BUNDLE',
      `the default bundle needs a static busybox at ${busybox}: apt-get install -y busybox-static, or pass a bundle`,
    );
  }
  const stamp = JSON.stringify({ format: BUNDLE_FORMAT, size: source.size, mtimeMs: source.mtimeMs });
  const current = await readFile(join(bundle, '.salvo-bundle'), 'utf8').catch(() => null);
  // The marker alone is not trusted: the config and the busybox binary must still be what was built.
  if (current !== null && current === `${stamp}\n${await bundleDigest(bundle)}`) return bundle;
  if (!isStaticElf(busybox)) {
    throw new SalvoError(
      'ERR_DEFAULT_BUNDLE',
      `${busybox} is dynamically linked and cannot run alone in a container: apt-get install -y busybox-static`,
    );
  }
  const building = `${bundle}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const rootfs = join(building, 'rootfs');
  for (const dir of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var']) {
    await mkdir(join(rootfs, dir), { recursive: true, mode: 0o755 });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of await busyboxApplets(busybox)) {
    await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => undefined);
  }
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  await writeFile(join(building, 'config.json'), `${JSON.stringify(defaultSpec(), null, 2)}\n`);
  await writeFile(join(building, '.salvo-bundle'), `${stamp}\n${await bundleDigest(building)}`);
  await rm(bundle, { recursive: true, force: true });
  await rename(building, bundle);
  return bundle;
}
