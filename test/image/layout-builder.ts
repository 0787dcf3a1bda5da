// Builds real OCI image layouts at test time: layers are directory trees packed with npm tar
// (whiteouts and opaque markers are plain files named .wh.*), blobs named by their sha256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { c as createTar } from 'tar';

export interface LayerTree {
  dir: string;
  /** Entry names in order (default: everything under dir, '.'). */
  entries?: string[];
}

function writeBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Packs a directory as a gzip'd layer blob; returns its descriptor and diff id. */
export async function packLayer(layout: string, tree: LayerTree, gzip = true): Promise<{ digest: string; size: number; diffId: string }> {
  const file = join(layout, `layer-${Date.now()}-${Math.random()}.tar`);
  createTar({ file, cwd: tree.dir, portable: false, sync: true, noDirRecurse: tree.entries !== undefined }, tree.entries ?? ['.']);
  const plain = readFileSync(file);
  const diffId = `sha256:${createHash('sha256').update(plain).digest('hex')}`;
  const { gzipSync } = await import('node:zlib');
  const data = gzip ? gzipSync(plain) : plain;
  execFileSync('rm', ['-f', file]);
  return { ...writeBlob(layout, data), diffId };
}

/** Writes oci-layout, the config, the manifest and index.json (tagged `tag`) over the given layers. */
export function writeLayout(
  layout: string,
  layers: { digest: string; size: number; diffId: string; mediaType?: string }[],
  config: Record<string, unknown>,
  tag = 'latest',
): { manifestDigest: string } {
  mkdirSync(layout, { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const configBlob = writeBlob(
    layout,
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } })),
  );
  const manifest = writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
        layers: layers.map((l) => ({ mediaType: l.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
      }),
    ),
  );
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  const tmp = join(layout, 'index.json.tmp');
  writeFileSync(tmp, JSON.stringify(index));
  renameSync(tmp, join(layout, 'index.json'));
  return { manifestDigest: manifest.digest };
}

/** Layer 1: a busybox rootfs (as src/bundle/busybox.ts makes it), a user `app` (1000), test files. */
export function busyboxTree(dir: string): void {
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var', 'data', 'opaque/inner', 'home'])
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
  writeFileSync(join(dir, 'data', 'gone.txt'), 'deleted by a whiteout\n');
  writeFileSync(join(dir, 'data', 'kept.txt'), 'kept\n');
  writeFileSync(join(dir, 'opaque', 'old.txt'), 'hidden by the opaque marker\n');
  writeFileSync(join(dir, 'opaque', 'inner', 'deep.txt'), 'hidden too\n');
  writeFileSync(join(dir, 'data', 'original'), 'linked\n');
  linkSync(join(dir, 'data', 'original'), join(dir, 'data', 'hardlink'));
  mkdirSync(join(dir, 'home', 'app'), { mode: 0o750 });
  chownSync(join(dir, 'home', 'app'), 1000, 1000);
}

/** Layer 2: a whiteout for /data/gone.txt, /opaque made opaque with a new file, a new file in /home/app. */
export function secondTree(dir: string): void {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data', '.wh.gone.txt'), '');
  mkdirSync(join(dir, 'opaque'), { recursive: true });
  writeFileSync(join(dir, 'opaque', '.wh..wh..opq'), '');
  writeFileSync(join(dir, 'opaque', 'new.txt'), 'from layer 2\n');
  mkdirSync(join(dir, 'home'), { mode: 0o755 });
  mkdirSync(join(dir, 'home', 'app'), { mode: 0o750 });
  chownSync(join(dir, 'home', 'app'), 1000, 1000);
  writeFileSync(join(dir, 'home', 'app', 'hello.txt'), 'hi app\n');
  chownSync(join(dir, 'home', 'app', 'hello.txt'), 1000, 1000);
}

export const TEST_IMAGE_CONFIG = {
  Env: ['PATH=/bin', 'GREETING=hello from the image'],
  Cmd: ['/bin/sh', '-c', 'echo "$GREETING"; id -u; pwd'],
  WorkingDir: '/home/app',
  User: 'app',
  Labels: { 'org.example.team': 'ci' },
};

/** The two-layer test image at `layout` (tag `v1`). */
export async function buildTestImage(scratch: string, layout: string): Promise<{ manifestDigest: string }> {
  const one = join(scratch, 'layer1');
  const two = join(scratch, 'layer2');
  busyboxTree(one);
  secondTree(two);
  mkdirSync(layout, { recursive: true });
  const layers = [await packLayer(layout, { dir: one }), await packLayer(layout, { dir: two })];
  return writeLayout(layout, layers, TEST_IMAGE_CONFIG, 'v1');
}
