// A start from an image (hook (a) of issue 12): the cached image serves as the bundle, its config
// as the process (args over Cmd, entrypoint over Entrypoint), its labels as the record's.
import type { CachedImage } from '../image/cache.js';
import { imageArgs } from '../image/process.js';
import type { ImageRootfs, MountHelper } from '../types.js';
import type { NormalizedStart } from './validate.js';

export const IMAGE_LABEL = 'salvo.image';
export const IMAGE_DIGEST_LABEL = 'salvo.image.digest';

/** The start with the image's bundle, a process override that always holds args (the rootfs is always derived). */
export function startFromImage(start: NormalizedStart, image: CachedImage): NormalizedStart {
  const spec = start.image as NonNullable<NormalizedStart['image']>;
  const args = imageArgs(image.process, start.override?.args, spec.entrypoint ?? undefined, image.ref);
  return {
    ...start,
    bundle: image.dir,
    override: { ...start.override, args },
    labels: { ...image.process.labels, ...start.labels, [IMAGE_LABEL]: image.ref, [IMAGE_DIGEST_LABEL]: image.digest },
  };
}

/** What the worker needs to give the container its root filesystem. */
export function imageRootfs(start: NormalizedStart, mount: MountHelper): ImageRootfs | null {
  if (start.image === null || start.bundle === null) return null;
  return { lower: `${start.bundle}/rootfs`, readOnly: start.image.readOnly, mount };
}
