// Applying one layer to a rootfs by the OCI layer rules (whiteouts, opaque directories, hard links,
// symlinks), with npm tar parsing and salvo doing every write itself: an entry that would land
// outside the rootfs (absolute path, '..', a symlink among its parents) is refused.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  chmodSync,
  chownSync,
  symlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { t as listTar, type ReadEntry } from 'tar';
import { SalvoError } from '../errors.js';
import { verifyBlobFile } from './digest.js';
import type { LayerBlob } from './layout.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export interface LayerStats {
  entries: number;
  /** Device nodes and fifos: Node cannot mknod; they are left out (the runtime makes /dev). */
  skipped: number;
}

/** Verifies the layer blob's digest, then applies its entries to `rootfs` in order. */
export async function applyLayer(rootfs: string, layer: LayerBlob, image: string): Promise<LayerStats> {
  await verifyBlobFile(layer.file, layer, image);
  const applier = new LayerApplier(rootfs, layer.digest, image);
  try {
    await listTar({ file: layer.file, strict: true, noResume: true, onReadEntry: (entry) => applier.entry(entry) });
  } catch (error) {
    if (applier.failure !== null) throw applier.failure;
    throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: layer ${layer.digest} is not a readable tar: ${(error as Error).message}`, {
      cause: error,
      details: { image, blob: layer.digest },
    });
  }
  if (applier.failure !== null) throw applier.failure;
  return applier.stats;
}

class LayerApplier {
  failure: SalvoError | Error | null = null;
  readonly stats: LayerStats = { entries: 0, skipped: 0 };
  /** Paths this layer wrote: an opaque marker hides only what lower layers put in its directory. */
  readonly #written = new Set<string>();
  /** Directories already checked to be real directories (not symlinks) in this layer. */
  readonly #dirs = new Set<string>();

  constructor(
    readonly rootfs: string,
    readonly blob: string,
    readonly image: string,
  ) {}

  entry(entry: ReadEntry): void {
    if (this.failure !== null) {
      entry.resume();
      return;
    }
    try {
      this.#apply(entry);
    } catch (error) {
      this.failure = error as Error;
      entry.resume();
    }
  }

  #unsafe(path: string, why: string): SalvoError {
    return new SalvoError('ERR_IMAGE_UNSAFE', `image ${this.image}: layer ${this.blob} entry ${JSON.stringify(path)} ${why}`, {
      details: { image: this.image, blob: this.blob, path },
    });
  }

  /** The entry's path split into components, refusing absolute paths and '..'. */
  #parts(path: string): string[] {
    if (path.startsWith('/')) throw this.#unsafe(path, 'is an absolute path');
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw this.#unsafe(path, "climbs out with '..'");
    return parts;
  }

  /** Makes (or checks) each parent directory; a symlink or a file among them is refused. */
  #parentOf(path: string, parts: string[], create: boolean): string {
    let rel = '';
    for (const part of parts.slice(0, -1)) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.#dirs.has(rel)) continue;
      const stats = lstatOrNull(join(this.rootfs, rel));
      if (stats === null) {
        if (!create) throw this.#unsafe(path, `names ${rel}, which does not exist`);
        mkdirSync(join(this.rootfs, rel), { mode: 0o755 });
      } else if (stats.isSymbolicLink()) {
        throw this.#unsafe(path, `goes through the symlink ${rel}`);
      } else if (!stats.isDirectory()) {
        throw this.#unsafe(path, `goes through ${rel}, which is not a directory`);
      }
      this.#dirs.add(rel);
    }
    return rel;
  }

  /** Removes what is at `rel` (a replaced entry), forgetting checked directories under it. */
  #clear(rel: string, keepDirectory: boolean): Stats | null {
    const target = join(this.rootfs, rel);
    const stats = lstatOrNull(target);
    if (stats === null || (keepDirectory && stats.isDirectory())) return stats;
    rmSync(target, { recursive: true, force: true });
    if (stats.isDirectory()) for (const dir of this.#dirs) if (dir === rel || dir.startsWith(`${rel}/`)) this.#dirs.delete(dir);
    return null;
  }

  #apply(entry: ReadEntry): void {
    this.stats.entries++;
    const parts = this.#parts(entry.path);
    if (parts.length === 0) {
      entry.resume(); // the layer's root itself
      return;
    }
    const name = parts[parts.length - 1] as string;
    const parentRel = this.#parentOf(entry.path, parts, true);
    const rel = parts.join('/');
    const target = join(this.rootfs, rel);
    if (name === OPAQUE) {
      const dir = join(this.rootfs, parentRel);
      for (const child of readdirSync(dir)) {
        const childRel = parentRel === '' ? child : `${parentRel}/${child}`;
        if (!this.#written.has(childRel)) this.#clear(childRel, false);
      }
      entry.resume();
      return;
    }
    if (name.startsWith(WHITEOUT)) {
      const hidden = name.slice(WHITEOUT.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw this.#unsafe(entry.path, 'is a whiteout of nothing');
      this.#clear(parentRel === '' ? hidden : `${parentRel}/${hidden}`, false);
      entry.resume();
      return;
    }
    this.#written.add(rel);
    const mode = (entry.mode ?? 0o644) & 0o7777;
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    switch (entry.type) {
      case 'Directory': {
        if (this.#clear(rel, true) === null) mkdirSync(target, { mode: 0o700 });
        chownSync(target, uid, gid);
        chmodSync(target, mode);
        this.#dirs.add(rel);
        entry.resume();
        return;
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        this.#clear(rel, false);
        // O_EXCL: never follows a symlink that could have appeared at the final component.
        const fd = openSync(target, 'wx', 0o600);
        entry.on('data', (chunk: Buffer) => {
          for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
        });
        entry.on('end', () => {
          try {
            fchownSync(fd, uid, gid);
            fchmodSync(fd, mode); // after chown, which clears setuid bits
            if (entry.mtime !== undefined) futimesSync(fd, entry.mtime, entry.mtime);
          } finally {
            closeSync(fd);
          }
        });
        return;
      }
      case 'SymbolicLink': {
        this.#clear(rel, false);
        symlinkSync(entry.linkpath ?? '', target);
        lchownSync(target, uid, gid);
        if (entry.mtime !== undefined) lutimesSync(target, entry.mtime, entry.mtime);
        entry.resume();
        return;
      }
      case 'Link': {
        const linkParts = this.#parts(entry.linkpath ?? '');
        if (linkParts.length === 0) throw this.#unsafe(entry.path, 'is a hard link to nothing');
        this.#parentOf(entry.linkpath ?? '', linkParts, false);
        const source = join(this.rootfs, ...linkParts);
        const stats = lstatOrNull(source);
        if (stats === null || stats.isDirectory())
          throw this.#unsafe(entry.path, `is a hard link to ${entry.linkpath}, which is ${stats === null ? 'missing' : 'a directory'}`);
        this.#clear(rel, false);
        linkSync(source, target);
        entry.resume();
        return;
      }
      default:
        // CharacterDevice, BlockDevice, FIFO: no mknod from Node; the runtime provides /dev.
        this.stats.skipped++;
        this.#written.delete(rel);
        entry.resume();
    }
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
