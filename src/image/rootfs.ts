// The worker's half of an image start (hooks (b) and (c) of issue 12): the derived config's root
// becomes the container's overlay (or the image read-only), and goes again with the container.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRootfs, MountHelper } from '../types.js';
import { readOnlyRoot } from './cache.js';
import { mountOverlay, unmountUnder } from './mount.js';

type Json = Record<string, unknown>;

/** The derived config with its root on the container's own overlay (mounted now), or on the read-only image. */
export async function withImageRootfs(config: Json, dir: string, image: ImageRootfs): Promise<Json> {
  if (image.readOnly) return readOnlyRoot(config, image.lower);
  const merged = await mountOverlay(image.mount, image.lower, dir);
  return { ...config, root: { ...(config.root as Json), path: merged, readonly: false } };
}

/** Unmounts a process directory's overlay, if it has one (its upper directory says so). */
export async function releaseImageRootfs(dir: string, mount: MountHelper): Promise<void> {
  if (existsSync(join(dir, 'upper'))) await unmountUnder(mount, [dir]);
}
