// The image cache (<stateDir>/images/<digest hex>/: rootfs/, config.json, image.json): each image
// unpacked once per manifest digest, atomically (a temp directory renamed into place), once even
// when many starts ask for it at the same time.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSpec } from '../bundle/default-spec.js';
import { SalvoError } from '../errors.js';
import { readImageSource } from './layout.js';
import { overlayLowerDirs } from './mount.js';
import { imageProcess, type ImageProcess } from './process.js';
import { parseImageRef, type ImageRef } from './reference.js';
import { applyLayer } from './unpack.js';

export interface CachedImage {
  ref: string;
  digest: string;
  /** The image's bundle directory: config.json (the image's process) and rootfs/. */
  dir: string;
  rootfs: string;
  process: ImageProcess;
  sizeBytes: number;
  /** How long unpacking took (when it was unpacked). */
  unpackMs: number;
  /** True when this call unpacked it (the first start). */
  unpackedNow: boolean;
}

interface ImageMeta {
  refs: string[];
  digest: string;
  process: ImageProcess;
  sizeBytes: number;
  unpackMs: number;
  unpackedAt: number;
}

const TEMP_PREFIX = '.tmp-';
const DIGEST_HEX = /^sha256:([a-f0-9]{64})$/;

export const imagesDir = (stateDir: string): string => join(stateDir, 'images');

export class ImageCache {
  readonly dir: string;
  /** Per digest: the unpack under way (or done) in this launcher. */
  readonly #unpacking = new Map<string, Promise<CachedImage>>();
  /** Per reference: the image it named while its index.json (or archive) was unchanged: no re-read per start. */
  readonly #resolved = new Map<string, { stamp: string; image: Promise<CachedImage> }>();

  /** Per image directory: when a start last noted its use (its mtime), so that it is noted at most once a second. */
  readonly #touchedAt = new Map<string, number>();

  constructor(stateDir: string) {
    this.dir = imagesDir(stateDir);
  }

  /** Removes half-made unpacks a killed launcher left (the state lock says nobody else unpacks now). */
  recover(): void {
    if (!existsSync(this.dir)) return;
    for (const name of readdirSync(this.dir)) if (name.startsWith(TEMP_PREFIX)) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** The cached image a reference names, unpacking it first if this digest is not cached yet. */
  async resolve(text: string): Promise<CachedImage> {
    const ref = parseImageRef(text);
    const stamp = sourceStamp(ref.transport === 'oci' ? join(ref.path, 'index.json') : ref.path);
    const known = this.#resolved.get(text);
    if (stamp !== null && known !== undefined && known.stamp === stamp) {
      const image = await known.image.catch(() => null);
      if (image !== null && this.#stillThere(image.dir)) return { ...image, unpackedNow: false };
    }
    const image = this.#resolveAfresh(ref);
    if (stamp !== null) this.#resolved.set(text, { stamp, image });
    image.catch(() => this.#resolved.get(text)?.image === image && this.#resolved.delete(text));
    return image;
  }

  /**
   * Whether a cached image is still there (not pruned), noting its use at most once a second: a
   * start from a known image then costs a stat, not an inode write (`salvo images` shows last use).
   */
  #stillThere(dir: string): boolean {
    const at = Date.now();
    if (at - (this.#touchedAt.get(dir) ?? 0) < 1000) return existsSync(dir);
    this.#touchedAt.set(dir, at);
    return touch(dir);
  }

  async #resolveAfresh(ref: ImageRef): Promise<CachedImage> {
    const text = ref.text;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const scratch = join(this.dir, `${TEMP_PREFIX}src-${randomBytes(6).toString('hex')}`);
    try {
      const source = await readImageSource(ref, scratch);
      const hex = DIGEST_HEX.exec(source.digest)?.[1];
      if (hex === undefined)
        throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${text}: digest ${source.digest} is not sha256`, { details: { image: text } });
      const final = join(this.dir, hex);
      const cached = this.#load(final, text, false);
      if (cached !== null) return cached;
      let pending = this.#unpacking.get(hex);
      if (pending === undefined) {
        pending = this.#unpack(final, text, source).finally(() => this.#unpacking.delete(hex));
        this.#unpacking.set(hex, pending);
        return await pending;
      }
      return { ...(await pending), unpackedNow: false };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async #unpack(final: string, text: string, source: Awaited<ReturnType<typeof readImageSource>>): Promise<CachedImage> {
    const began = performance.now();
    const temp = join(this.dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    const rootfs = join(temp, 'rootfs');
    try {
      await mkdir(rootfs, { recursive: true, mode: 0o755 });
      for (const layer of source.layers) await applyLayer(rootfs, layer, text);
      const process = imageProcess(source.config, rootfs, text);
      writeFileSync(join(temp, 'config.json'), `${JSON.stringify(bundleConfig(process), null, 2)}\n`);
      const meta: ImageMeta = {
        refs: [text],
        digest: source.digest,
        process,
        sizeBytes: treeSize(rootfs),
        unpackMs: performance.now() - began,
        unpackedAt: Date.now(),
      };
      writeFileSync(join(temp, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
      await rename(temp, final); // the image exists whole or not at all
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
    return { ...(this.#load(final, text, true) as CachedImage), unpackedNow: true };
  }

  /** A cached image's metadata, noting the ref and the time of use; null when it is not cached. */
  #load(final: string, text: string, fresh: boolean): CachedImage | null {
    const metaFile = join(final, 'image.json');
    let meta: ImageMeta;
    try {
      meta = JSON.parse(readFileSync(metaFile, 'utf8')) as ImageMeta;
    } catch {
      return null;
    }
    if (!meta.refs.includes(text)) {
      meta.refs.push(text);
      writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    }
    touch(final);
    return {
      ref: text,
      digest: meta.digest,
      dir: final,
      rootfs: join(final, 'rootfs'),
      process: meta.process,
      sizeBytes: meta.sizeBytes,
      unpackMs: meta.unpackMs,
      unpackedNow: fresh,
    };
  }

  /** Every cached image with its refs, size and last use. */
  list(): { refs: string[]; digest: string; dir: string; sizeBytes: number; lastUsedAt: number }[] {
    if (!existsSync(this.dir)) return [];
    const images = [];
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      try {
        const meta = JSON.parse(readFileSync(join(this.dir, name, 'image.json'), 'utf8')) as ImageMeta;
        images.push({
          refs: meta.refs,
          digest: meta.digest,
          dir: join(this.dir, name),
          sizeBytes: meta.sizeBytes,
          lastUsedAt: statSync(join(this.dir, name)).mtimeMs,
        });
      } catch {
        // not an image directory
      }
    }
    return images;
  }

  /** Removes cached images whose digest is not in `inUse` and whose rootfs no overlay uses; returns their digests. */
  prune(inUse: ReadonlySet<string>, mountinfos: readonly string[]): string[] {
    const removed = [];
    const lowers = new Set(mountinfos.flatMap((file) => [...overlayLowerDirs(file)]));
    for (const image of this.list()) {
      if (inUse.has(image.digest) || lowers.has(join(image.dir, 'rootfs')) || this.#unpacking.has(image.digest.slice('sha256:'.length))) continue;
      rmSync(image.dir, { recursive: true, force: true });
      removed.push(image.digest);
    }
    return removed;
  }
}

/** The image's bundle config: salvo's default spec with the image's process, a writable root (the overlay). */
function bundleConfig(process: ImageProcess): Record<string, unknown> {
  const spec = defaultSpec([...process.entrypoint, ...process.cmd]);
  const proc = spec.process as Record<string, unknown>;
  proc.env = process.env;
  proc.cwd = process.cwd;
  proc.user = process.user;
  spec.root = { path: 'rootfs', readonly: false };
  // The image's own /tmp lives in the overlay; readOnly starts put a tmpfs back (see readOnlyRoot).
  spec.mounts = (spec.mounts as { destination: string }[]).filter((m) => m.destination !== '/tmp');
  return spec;
}

/** For readOnly starts: the image mounted read-only with a tmpfs on /tmp. */
export function readOnlyRoot(config: Record<string, unknown>, rootfs: string): Record<string, unknown> {
  const tmp = { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] };
  return { ...config, root: { path: rootfs, readonly: true }, mounts: [...((config.mounts as unknown[]) ?? []), tmp] };
}

function treeSize(root: string): number {
  let total = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      total += stats.isFile() ? stats.size : 0;
      if (stats.isDirectory()) walk(path);
    }
  };
  walk(root);
  return total;
}

/** Identifies one version of an index.json or archive file; null when it cannot be read. */
function sourceStamp(file: string): string | null {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return null;
  }
}

/** Notes the time of use on an image directory; false when it is gone (pruned). */
function touch(dir: string): boolean {
  const at = new Date();
  try {
    utimesSync(dir, at, at);
    return true;
  } catch {
    return false;
  }
}
