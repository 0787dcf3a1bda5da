// Containers from an image with real runc and crun: the image's process, its tree as the root,
// a private overlay per container, and no mount or upper directory left after gc.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Launcher } from '../../src/index.js';
import { overlayMountsUnder } from '../../src/image/mount.js';
import { RUNTIMES, lastRunDir, openLauncher, removeTempDirs, tempDir } from '../helpers.js';
import { buildTestImage } from './layout-builder.js';

after(removeTempDirs);

// 200 as in issue 12 with SALVO_TEST_IMAGE_COUNT=200; fewer by default to keep the suite short.
const MANY = Number(process.env.SALVO_TEST_IMAGE_COUNT ?? 24);

for (const runtime of RUNTIMES) {
  describe(`containers from an image with ${runtime}`, { timeout: 900_000 }, () => {
    let launcher: Launcher;
    let image: string;
    const output = (dir: string): string => readFileSync(join(dir, 'stdout.log'), 'utf8') + readFileSync(join(dir, 'stderr.log'), 'utf8');
    const mounts = (): string[] => overlayMountsUnder(mountinfoOf(launcher), launcher.stateDir);

    before(async () => {
      const scratch = tempDir('salvo-img-run-');
      await buildTestImage(scratch, join(scratch, 'layout'));
      image = `oci:${join(scratch, 'layout')}:v1`;
      launcher = await openLauncher(runtime, { workers: 2 });
    });

    after(async () => {
      await launcher.close();
    });

    it("runs the image's Cmd as its User in its WorkingDir with its Env, and records its Labels", async () => {
      const proc = await launcher.start({ id: `img-${runtime}-cmd`, image });
      const exit = await proc.exited;
      assert.equal(exit.exitCode, 0, output(proc.dir));
      assert.equal(output(proc.dir), 'hello from the image\n1000\n/home/app\n');
      const labels = launcher.get(`img-${runtime}-cmd`)?.labels ?? {};
      assert.equal(labels['org.example.team'], 'ci');
      assert.equal(labels['salvo.image'], image);
    });

    it("sees exactly the image's tree (whiteout and opaque applied), and args replace Cmd", async () => {
      const script = 'ls /data; echo --; ls -A /opaque; echo --; cat /home/app/hello.txt; id -G; echo $GREETING';
      const proc = await launcher.start({ id: `img-${runtime}-tree`, image, args: ['/bin/sh', '-c', script], env: { GREETING: 'overridden' } });
      assert.equal((await proc.exited).exitCode, 0, output(proc.dir));
      assert.equal(output(proc.dir), 'hardlink\nkept.txt\noriginal\n--\nnew.txt\n--\nhi app\n1000 50\noverridden\n');
    });

    it('replaces the Entrypoint (and drops Cmd) with entrypoint, as docker does', async () => {
      const proc = await launcher.start({ id: `img-${runtime}-ep`, image, entrypoint: ['/bin/echo', 'ep'] });
      assert.equal((await proc.exited).exitCode, 0);
      assert.equal(output(proc.dir), 'ep\n');
      const both = await launcher.start({ id: `img-${runtime}-ep2`, image, entrypoint: ['/bin/echo'], args: ['a', 'b'] });
      await both.exited;
      assert.equal(output(both.dir), 'a b\n');
    });

    it('mounts the image read-only with a writable /tmp under readOnly, with no overlay', async () => {
      const proc = await launcher.start({
        id: `img-${runtime}-ro`,
        image,
        readOnly: true,
        args: ['/bin/sh', '-c', 'touch /home/app/x 2>/dev/null && echo wrote || echo refused; echo t > /tmp/t && cat /tmp/t'],
      });
      assert.equal((await proc.exited).exitCode, 0, output(proc.dir));
      assert.equal(output(proc.dir), 'refused\nt\n');
      assert.equal(existsSync(join(proc.dir, 'upper')), false);
    });

    it('keeps an image that a running container overlays when the cache is pruned', async () => {
      const proc = await launcher.start({ id: `img-${runtime}-prune`, image, args: ['/bin/sleep', '60'] });
      assert.deepEqual(launcher.images.prune(new Set(), [mountinfoOf(launcher)]), []);
      assert.equal(launcher.images.list().length, 1);
      await launcher.kill(proc.id, 'SIGKILL');
      await proc.exited;
    });

    it(`runs ${MANY} containers from one unpack, each writing to its own upper directory, and leaves no mount after gc`, async () => {
      const jobs = Array.from({ length: MANY }, (_, i) => ({
        id: `img-${runtime}-many-${i}`,
        image,
        args: ['/bin/sh', '-c', `echo ${i} > /home/app/mine; ls /home/app | wc -l; cat /home/app/mine`],
      }));
      const results = [];
      for await (const result of launcher.batch(jobs, { concurrency: 8 })) results.push(result);
      assert.equal(results.length, MANY);
      for (const r of results) assert.equal(r.exitCode, 0, `${r.id}: ${JSON.stringify(r.error)}`);
      for (let i = 0; i < MANY; i++) {
        const dir = lastRunDir(launcher.stateDir, `img-${runtime}-many-${i}`);
        assert.equal(readFileSync(join(dir, 'stdout.log'), 'utf8'), `2\n${i}\n`); // hello.txt and its own file only
        assert.equal(readFileSync(join(dir, 'upper', 'home', 'app', 'mine'), 'utf8'), `${i}\n`);
      }
      const images = readdirSync(launcher.images.dir);
      assert.equal(images.length, 1, `one image in the cache: ${images.join(', ')}`);
      assert.equal(existsSync(join(launcher.images.dir, images[0] as string, 'rootfs', 'home', 'app', 'mine')), false);
      await waitFor(() => mounts().length === 0); // each container's delete unmounts its overlay
      await launcher.gc();
      assert.deepEqual(mounts(), []);
      const containers = join(launcher.stateDir, 'containers');
      assert.deepEqual(
        readdirSync(containers).filter((id) => id.startsWith(`img-${runtime}-many-`)),
        [],
      );
    });
  });
}

function mountinfoOf(launcher: Launcher): string {
  const ns = launcher.runtime.mountNamespace;
  return ns === null ? '/proc/self/mountinfo' : ns.replace(/ns\/mnt$/, 'mountinfo');
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
}
