// Reading an image source: an OCI image layout (index.json → manifest → config + layers) or a
// `docker save` tarball (manifest.json → config + layer tars), down to the verified descriptors.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { x as extractTar } from 'tar';
import { SalvoError } from '../errors.js';
import { blobPath, isFile, parseJson, readJsonBlob, verifyBlobFile, type Descriptor } from './digest.js';
import type { ImageRef } from './reference.js';

/** One layer to apply: its file, the digest it must have, and whether it is gzip'd (tar sniffs that itself). */
export interface LayerBlob {
  file: string;
  digest: string;
  size?: number;
}

export interface ImageSource {
  /** The cache key: the manifest digest (OCI) or the config digest, docker's image id (docker-archive). */
  digest: string;
  config: Record<string, unknown>;
  layers: LayerBlob[];
}

const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);
const REF_NAME = 'org.opencontainers.image.ref.name';

function notLayout(image: string, why: string): SalvoError {
  return new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: ${why}`, { details: { image } });
}

function notFound(image: string, why: string): SalvoError {
  return new SalvoError('ERR_IMAGE_NOT_FOUND', `image ${image}: ${why}`, { details: { image } });
}

/** Reads what an image is made of; `scratch` is a private directory for a docker archive's contents. */
export async function readImageSource(ref: ImageRef, scratch: string): Promise<ImageSource> {
  return ref.transport === 'oci' ? readOciLayout(ref) : readDockerArchive(ref, scratch);
}

async function readOciLayout(ref: ImageRef): Promise<ImageSource> {
  const image = ref.text;
  const layout = ref.path;
  if (!(await isDirectory(layout))) throw notFound(image, `${layout} does not exist or is not a directory`);
  if (!(await isFile(join(layout, 'oci-layout'))) || !(await isFile(join(layout, 'index.json')))) {
    throw notLayout(image, `${layout} is not an OCI image layout (it needs oci-layout and index.json)`);
  }
  const index = parseJson(await readFile(join(layout, 'index.json'), 'utf8'), 'index.json', image);
  let descriptor = pickByTag(index, ref.tag, image);
  let manifest: Record<string, unknown> | null = null;
  // An index may point at an index (multi-platform): take this machine's platform, or the only entry.
  for (let depth = 0; depth < 4 && manifest === null; depth++) {
    const blob = await readJsonBlob(layout, descriptor, image);
    const type = descriptor.mediaType ?? (blob.mediaType as string | undefined);
    if (type !== undefined && INDEX_TYPES.has(type)) descriptor = pickPlatform(blob, image);
    else if (type === undefined || MANIFEST_TYPES.has(type)) manifest = blob;
    else throw notLayout(image, `descriptor ${descriptor.digest} has media type ${type}, not an image manifest or index`);
  }
  if (manifest === null) throw notLayout(image, 'image indexes nest too deep');
  const configDescriptor = manifest.config as Descriptor | undefined;
  if (configDescriptor === undefined || !Array.isArray(manifest.layers))
    throw notLayout(image, `manifest ${descriptor.digest} has no config or layers`);
  const config = await readJsonBlob(layout, configDescriptor, image);
  const layers = (manifest.layers as Descriptor[]).map((layer) => {
    if (layer.mediaType !== undefined && !LAYER_TYPES.has(layer.mediaType)) {
      throw notLayout(image, `layer ${layer.digest} has media type ${layer.mediaType}: salvo unpacks tar and tar+gzip layers`);
    }
    return { file: blobPath(layout, layer.digest, image), digest: layer.digest, ...(layer.size === undefined ? {} : { size: layer.size }) };
  });
  return { digest: descriptor.digest, config, layers };
}

/** The manifest a tag names (annotation org.opencontainers.image.ref.name); no tag: 'latest', else the only one. */
function pickByTag(index: Record<string, unknown>, tag: string | null, image: string): Descriptor {
  const manifests = Array.isArray(index.manifests) ? (index.manifests as Descriptor[]) : null;
  if (manifests === null) throw notLayout(image, 'index.json has no manifests list');
  const tagged = (name: string): Descriptor | undefined => manifests.find((m) => m.annotations?.[REF_NAME] === name);
  if (tag !== null) {
    const found = tagged(tag);
    if (found === undefined) {
      const tags = manifests.map((m) => m.annotations?.[REF_NAME]).filter((t) => t !== undefined);
      throw notFound(image, `the layout has no tag ${JSON.stringify(tag)} (tags: ${tags.length === 0 ? 'none' : tags.join(', ')})`);
    }
    return found;
  }
  const latest = tagged('latest');
  if (latest !== undefined) return latest;
  if (manifests.length === 1) return manifests[0] as Descriptor;
  throw notFound(image, `the layout holds ${manifests.length} manifests and none is tagged latest: name a tag (oci:DIR:TAG)`);
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

function pickPlatform(index: Record<string, unknown>, image: string): Descriptor {
  const manifests = Array.isArray(index.manifests) ? (index.manifests as Descriptor[]) : [];
  const arch = GOARCH[process.arch] ?? process.arch;
  const match = manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch);
  if (match !== undefined) return match;
  if (manifests.length === 1) return manifests[0] as Descriptor;
  throw notFound(image, `the image index has no manifest for linux/${arch}`);
}

interface ArchiveEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

async function readDockerArchive(ref: ImageRef, scratch: string): Promise<ImageSource> {
  const image = ref.text;
  if (!(await isFile(ref.path))) throw notFound(image, `${ref.path} does not exist or is not a file`);
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  // Our own scratch directory: tar's own guards (no absolute paths, no '..') are enough here.
  await extractTar({ file: ref.path, cwd: scratch, preserveOwner: false }).catch((error: unknown) => {
    throw notLayout(image, `${ref.path} is not a tar archive: ${(error as Error).message}`);
  });
  const manifestFile = join(scratch, 'manifest.json');
  if (!(await isFile(manifestFile))) throw notLayout(image, `${ref.path} has no manifest.json: it is not a docker save archive`);
  const entries = parseJson(await readFile(manifestFile, 'utf8'), 'manifest.json', image) as unknown as ArchiveEntry[];
  if (!Array.isArray(entries)) throw notLayout(image, 'manifest.json is not a list');
  const entry = pickArchiveEntry(entries, ref.tag, image);
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) throw notLayout(image, 'a manifest.json entry has no Config or Layers');
  const configFile = inside(scratch, entry.Config, image);
  // The config's name is its digest (<hex>.json, or blobs/sha256/<hex> since docker 25).
  const hex = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config)?.[1];
  if (hex === undefined) throw notLayout(image, `config ${entry.Config} is not named by its digest`);
  const configDigest = `sha256:${hex}`;
  await verifyBlobFile(configFile, { digest: configDigest }, image);
  const config = parseJson(await readFile(configFile, 'utf8'), `config ${entry.Config}`, image);
  const diffIds = ((config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []) as string[];
  if (diffIds.length !== entry.Layers.length)
    throw notLayout(image, `the config lists ${diffIds.length} layers, manifest.json ${entry.Layers.length}`);
  // docker save layers are plain tars: the config's diff_ids are their digests.
  const layers = entry.Layers.map((layer, i) => ({ file: inside(scratch, layer, image), digest: diffIds[i] as string }));
  return { digest: configDigest, config, layers };
}

function pickArchiveEntry(entries: ArchiveEntry[], tag: string | null, image: string): ArchiveEntry {
  if (tag === null) {
    if (entries.length === 1) return entries[0] as ArchiveEntry;
    throw notFound(image, `the archive holds ${entries.length} images: name one (docker-archive:FILE:NAME:TAG)`);
  }
  const wanted = tag.includes(':') ? tag : `${tag}:latest`;
  const found = entries.find((e) =>
    (e.RepoTags ?? []).some((t) => t === wanted || t === `docker.io/${wanted}` || t === `docker.io/library/${wanted}`),
  );
  if (found !== undefined) return found;
  const tags = entries.flatMap((e) => e.RepoTags ?? []);
  throw notFound(image, `the archive has no image ${JSON.stringify(wanted)} (tags: ${tags.length === 0 ? 'none' : tags.join(', ')})`);
}

function inside(dir: string, name: string, image: string): string {
  if (name.startsWith('/') || name.split('/').includes('..')) throw notLayout(image, `manifest.json names ${name}, outside the archive`);
  return join(dir, name);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
