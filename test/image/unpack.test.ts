// Unpacking images for real: a two-layer layout built at test time against umoci's own unpack,
// and layers that must be refused (tampered, escaping, through a symlink, missing tag).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageCache } from '../../src/image/cache.js';
import { SalvoError } from '../../src/errors.js';
import { removeTempDirs, tempDir } from '../helpers.js';
import { buildTestImage, packLayer, writeLayout, busyboxTree } from './layout-builder.js';

after(removeTempDirs);

/** path → type, mode, owner, link target or content hash: what two unpacks must agree on. */
function describeTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const s = lstatSync(join(root, path));
      const kind = s.isDirectory()
        ? 'd'
        : s.isSymbolicLink()
          ? `l:${readlinkSync(join(root, path))}`
          : s.isFile()
            ? `f:${readFileSync(join(root, path)).toString('base64').slice(0, 40)}:${s.size}`
            : 'other';
      out.set(path, `${kind} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} nlink=${s.isFile() ? s.nlink : '-'}`);
      if (s.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

async function refusal(cache: ImageCache, ref: string): Promise<SalvoError> {
  const error = await cache.resolve(ref).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof SalvoError, `expected a SalvoError, got ${String(error)}`);
  return error;
}

describe('image unpack', { timeout: 120_000 }, () => {
  let scratch: string;
  let layout: string;

  before(async () => {
    scratch = tempDir('salvo-img-');
    layout = join(scratch, 'layout');
    await buildTestImage(scratch, layout);
  });

  it('unpacks a two-layer image to exactly the tree umoci raw unpack makes', async () => {
    const cache = new ImageCache(join(scratch, 'state-diff'));
    const image = await cache.resolve(`oci:${layout}:v1`);
    const theirs = join(scratch, 'umoci-rootfs');
    execFileSync('umoci', ['raw', 'unpack', '--image', `${layout}:v1`, theirs]);
    const ours = describeTree(image.rootfs);
    assert.deepEqual(ours, describeTree(theirs));
    // and the layer rules did their work
    assert.equal(ours.has('data/gone.txt'), false);
    assert.equal(ours.has('data/kept.txt'), true);
    assert.deepEqual(
      [...ours.keys()].filter((p) => p.startsWith('opaque/')),
      ['opaque/new.txt'],
    );
    assert.equal(lstatSync(join(image.rootfs, 'data', 'hardlink')).ino, lstatSync(join(image.rootfs, 'data', 'original')).ino);
    assert.equal(lstatSync(join(image.rootfs, 'home', 'app')).uid, 1000);
  });

  it('unpacks one image once however many resolve it at the same time', async () => {
    const cache = new ImageCache(join(scratch, 'state-once'));
    const images = await Promise.all(Array.from({ length: 8 }, () => cache.resolve(`oci:${layout}:v1`)));
    assert.equal(images.filter((i) => i.unpackedNow).length, 1);
    assert.equal(new Set(images.map((i) => i.dir)).size, 1);
    assert.deepEqual(readdirSync(cache.dir).length, 1); // one image, no temp dirs left
    assert.equal((await cache.resolve(`oci:${layout}`)).unpackedNow, false, 'the only manifest without a tag is the same image');
  });

  it('unpacks a docker save archive of the same image to the same tree, by its repo tag', async () => {
    // docker save's layout: <config hex>.json, <layer>/layer.tar (uncompressed), manifest.json.
    const dir = join(scratch, 'docker-save');
    mkdirSync(dir);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const blob = (digest: string): Buffer => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));
    const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
    writeFileSync(join(dir, `${manifest.config.digest.slice(7)}.json`), blob(manifest.config.digest));
    const { gunzipSync } = await import('node:zlib');
    const layers = manifest.layers.map((l: { digest: string }, i: number) => {
      mkdirSync(join(dir, `l${i}`));
      writeFileSync(join(dir, `l${i}`, 'layer.tar'), gunzipSync(blob(l.digest)));
      return `l${i}/layer.tar`;
    });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify([{ Config: `${manifest.config.digest.slice(7)}.json`, RepoTags: ['team/test:v1'], Layers: layers }]),
    );
    const archive = join(scratch, 'image.tar');
    execFileSync('tar', ['-cf', archive, '-C', dir, '.']);
    const cache = new ImageCache(join(scratch, 'state-archive'));
    const image = await cache.resolve(`docker-archive:${archive}:team/test:v1`);
    assert.equal(image.digest, manifest.config.digest);
    const fromLayout = await new ImageCache(join(scratch, 'state-archive-oci')).resolve(`oci:${layout}:v1`);
    assert.deepEqual(describeTree(image.rootfs), describeTree(fromLayout.rootfs));
    assert.equal((await refusal(cache, `docker-archive:${archive}:team/other`)).code, 'ERR_IMAGE_NOT_FOUND');
  });

  it('refuses a missing tag and a directory that is not a layout, with their codes', async () => {
    const cache = new ImageCache(join(scratch, 'state-tag'));
    const missing = await refusal(cache, `oci:${layout}:nope`);
    assert.equal(missing.code, 'ERR_IMAGE_NOT_FOUND');
    assert.match(missing.message, /no tag "nope" \(tags: v1\)/);
    assert.equal((await refusal(cache, `oci:${scratch}`)).code, 'ERR_IMAGE_LAYOUT');
    assert.equal((await refusal(cache, `oci:${scratch}/absent`)).code, 'ERR_IMAGE_NOT_FOUND');
    assert.equal((await refusal(cache, 'docker://busybox')).code, 'ERR_IMAGE_NOT_FOUND');
  });

  it('refuses a tampered blob by its digest and caches nothing', async () => {
    const bad = join(scratch, 'tampered');
    execFileSync('cp', ['-a', layout, bad]);
    const manifest = JSON.parse(readFileSync(join(bad, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
    const layer = JSON.parse(readFileSync(join(bad, 'blobs', 'sha256', manifest), 'utf8')).layers[1].digest as string;
    const file = join(bad, 'blobs', 'sha256', layer.slice(7));
    const data = readFileSync(file);
    data.writeUInt8(data.readUInt8(data.length - 20) ^ 0xff, data.length - 20);
    writeFileSync(file, data);
    const cache = new ImageCache(join(scratch, 'state-tampered'));
    const error = await refusal(cache, `oci:${bad}:v1`);
    assert.equal(error.code, 'ERR_IMAGE_DIGEST');
    assert.ok(error.message.includes(layer), error.message);
    assert.deepEqual(readdirSync(cache.dir), []);
  });

  for (const { name, entries, path } of [
    { name: "a layer entry with '..'", entries: (d: string) => ['-P', '-C', join(d, 'x'), '../etc/passwd'], path: '../etc/passwd' },
    {
      name: 'an absolute symlink and then a file through it',
      entries: (d: string) => ['-C', join(d, 'a'), 'evil', '-C', join(d, 'b'), 'evil/pwned'],
      path: 'evil/pwned',
    },
    { name: 'an absolute path', entries: (d: string) => ['-P', join(d, 'etc', 'passwd')], path: '/' },
  ]) {
    it(`refuses ${name} and writes nothing outside the cache`, async () => {
      const dir = tempDir('salvo-img-evil-');
      const outside = join(dir, 'outside');
      mkdirSync(outside);
      mkdirSync(join(dir, 'x'));
      mkdirSync(join(dir, 'etc'));
      writeFileSync(join(dir, 'etc', 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
      mkdirSync(join(dir, 'a'));
      symlinkSync(outside, join(dir, 'a', 'evil'));
      mkdirSync(join(dir, 'b', 'evil'), { recursive: true });
      writeFileSync(join(dir, 'b', 'evil', 'pwned'), 'pwned\n');
      const base = join(dir, 'base');
      busyboxTree(base);
      const evilLayout = join(dir, 'layout');
      mkdirSync(evilLayout);
      const tarFile = join(dir, 'evil.tar');
      execFileSync('tar', ['-cf', tarFile, ...entries(dir)], { stdio: 'ignore' });
      const layers = [await packLayer(evilLayout, { dir: base })];
      // the crafted tar as layer 2 (uncompressed)
      const crafted = readFileSync(tarFile);
      const { createHash } = await import('node:crypto');
      const hex = createHash('sha256').update(crafted).digest('hex');
      writeFileSync(join(evilLayout, 'blobs', 'sha256', hex), crafted);
      layers.push({ digest: `sha256:${hex}`, size: crafted.length, diffId: `sha256:${hex}` });
      writeLayout(
        evilLayout,
        layers.map((l, i) => ({ ...l, ...(i === 1 ? { mediaType: 'application/vnd.oci.image.layer.v1.tar' } : {}) })),
        { Cmd: ['/bin/true'] },
      );
      const cache = new ImageCache(join(dir, 'state'));
      const error = await refusal(cache, `oci:${evilLayout}`);
      assert.equal(error.code, 'ERR_IMAGE_UNSAFE', error.message);
      assert.ok(error.message.includes(`sha256:${hex}`), error.message);
      assert.ok(error.message.includes(path), error.message);
      assert.deepEqual(readdirSync(outside), []);
      assert.equal(readFileSync(join(dir, 'etc', 'passwd'), 'utf8'), 'evil:x:0:0::/:/bin/sh\n');
      assert.deepEqual(readdirSync(cache.dir), []);
      assert.equal(existsSync(join(cache.dir, '..', 'etc')), false);
    });
  }
});
