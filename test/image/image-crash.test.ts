// A launcher killed (SIGKILL) in the middle of unpacking an image, and in the middle of a batch
// from an image: the next launcher on the state directory leaves no half-made image and no overlay
// mount of a container that is not running. runc and crun alike mount overlays in the host's mount
// namespace (crun's reach its namespace through salvo's shared bind of containers/, DESIGN §12):
// the bind a killed crun launcher leaves is reused by the next open, and removed at its close.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Launcher } from '../../src/index.js';
import { overlayMountsUnder } from '../../src/image/mount.js';
import { RUNTIMES, removeTempDirs, runDirs, tempDir } from '../helpers.js';
import { readMountinfo } from '../../src/image/mountinfo.js';
import { salvoChild, servingPid, startedPid, writeJobs, type CliChild } from '../reliability/cli-child.js';
import { isRunning, waitFor } from '../reliability/processes.js';
import { buildTestImage } from './layout-builder.js';

after(removeTempDirs);

const hostMounts = (stateDir: string): string[] => overlayMountsUnder('/proc/self/mountinfo', stateDir);

/** SIGKILLs the launcher that does the work (the serving one the command started) and the command; resolves once both are gone. */
async function killLauncher(stateDir: string, run: CliChild): Promise<void> {
  const serving = servingPid(stateDir);
  assert.ok(serving !== null && serving !== run.child.pid, 'a serving launcher holds the state directory');
  process.kill(serving, 'SIGKILL');
  run.child.kill('SIGKILL');
  await run.exited;
  await waitFor('the killed launcher to be gone', () => !isRunning(serving), 30_000);
  // Its threads may still be tearing down (and hold the state lock) after the leader is a zombie.
  await waitFor('the state lock to be free', () => spawnSync('flock', ['-n', join(stateDir, 'lock'), 'true']).status === 0, 60_000);
}

/** A batch of 8 image jobs whose launcher is SIGKILLed once 3 run on overlays; returns once the orphans ended. */
async function killMidBatch(dir: string, layout: string, stateDir: string, runtime: string, prefix: string): Promise<void> {
  const ids = Array.from({ length: 8 }, (_, i) => `${prefix}-${i}`);
  const jobs = ids.map((id) => ({ id, image: `oci:${layout}:v1`, args: ['/bin/sh', '-c', 'echo x > /home/app/x; sleep 1'] }));
  const run = salvoChild(stateDir, runtime, ['batch', writeJobs(dir, jobs), '--ndjson', '--concurrency', '4']);
  await waitFor(
    'containers with overlays',
    () => ids.filter((id) => startedPid(run, id) !== undefined).length >= 3 && hostMounts(stateDir).length >= 3,
    120_000,
  );
  await killLauncher(stateDir, run);
  // Also the starts the killed launcher never reported: the runtime wrote their pid files.
  const pids = (): number[] => [
    ...ids.map((id) => startedPid(run, id)).filter((p): p is number => p !== undefined),
    ...ids
      .flatMap((id) => runDirs(stateDir, id).map((d) => join(d, 'pid')))
      .filter((file) => existsSync(file))
      .map((file) => Number.parseInt(readFileSync(file, 'utf8'), 10))
      .filter((p) => p > 0),
  ];
  await waitFor('the orphaned containers to end', () => pids().every((pid) => !isRunning(pid)), 60_000);
}

describe('a launcher killed while it works with an image (runc)', { timeout: 300_000 }, () => {
  it('leaves no half-made image when killed mid-unpack, and the next start unpacks it whole', async () => {
    const dir = tempDir('salvo-img-crash-');
    const layout = join(dir, 'layout');
    await buildTestImage(dir, layout);
    const stateDir = join(dir, 'state');
    // Layer 2's blob becomes a fifo: the unpack blocks there, after layer 1, until we kill it.
    const manifest = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')).manifests[0].digest.slice(7) as string;
    const layer = (JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', manifest), 'utf8')).layers[1].digest as string).slice(7);
    const blob = join(layout, 'blobs', 'sha256', layer);
    renameSync(blob, `${blob}.real`);
    execFileSync('mkfifo', [blob]);
    const run = salvoChild(stateDir, 'runc', ['run', '--id', 'img-crash-unpack', '--image', `oci:${layout}:v1`]);
    const images = join(stateDir, 'images');
    const halfMade = (): string[] =>
      existsSync(images) ? readdirSync(images).filter((n) => n.startsWith('.tmp-') && !n.startsWith('.tmp-src-')) : [];
    await waitFor('the unpack to reach layer 2', () => halfMade().some((n) => existsSync(join(images, n, 'rootfs', 'bin', 'busybox'))), 60_000);
    await killLauncher(stateDir, run);
    execFileSync('rm', [blob]);
    renameSync(`${blob}.real`, blob);

    const launcher = await Launcher.open({ stateDir, runtime: 'runc' });
    try {
      assert.deepEqual(readdirSync(images), [], 'neither a temp directory nor an image is left');
      const proc = await launcher.start({ id: 'img-crash-after', image: `oci:${layout}:v1` });
      assert.equal((await proc.exited).exitCode, 0);
      assert.equal(readFileSync(join(proc.dir, 'stdout.log'), 'utf8'), 'hello from the image\n1000\n/home/app\n');
      assert.equal(readdirSync(images).length, 1);
    } finally {
      await launcher.close();
    }
  });

  it('leaves no overlay mount of a dead container when killed mid-batch', async () => {
    const dir = tempDir('salvo-img-crash-');
    const layout = join(dir, 'layout');
    await buildTestImage(dir, layout);
    const stateDir = join(dir, 'state');
    await killMidBatch(dir, layout, stateDir, 'runc', 'img-crash-batch');
    assert.ok(hostMounts(stateDir).length > 0, 'the killed launcher left overlays mounted');

    const launcher = await Launcher.open({ stateDir, runtime: 'runc' });
    try {
      assert.deepEqual(hostMounts(stateDir), [], 'open unmounted the overlays of containers that no longer run');
      await launcher.gc();
      const containers = join(stateDir, 'containers');
      assert.deepEqual(
        readdirSync(containers).filter((id) => runDirs(stateDir, id).some((dir) => existsSync(join(dir, 'upper')))),
        [],
      );
    } finally {
      await launcher.close();
    }
  });
});

describe('a crun launcher killed mid-batch on a hybrid cgroup host', { timeout: 300_000, skip: !RUNTIMES.includes('crun') }, () => {
  it('leaves its shared bind, which the next open reuses (not stacked) and whose stale overlays it removes, and close removes', async () => {
    const dir = tempDir('salvo-img-crash-');
    const layout = join(dir, 'layout');
    await buildTestImage(dir, layout);
    const stateDir = join(dir, 'state');
    const probe = await Launcher.open({ stateDir, runtime: 'crun' });
    const namespaced = probe.runtime.namespaced;
    await probe.close();
    if (!namespaced) return; // no hybrid cgroup host: crun runs in the host's namespace, no bind
    const containers = join(realpathSync(stateDir), 'containers');
    const binds = (): number[] =>
      readMountinfo('/proc/self/mountinfo')
        .filter((m) => m.point === containers)
        .map((m) => m.id);
    assert.deepEqual(binds(), [], 'the probe launcher removed its bind at close');
    await killMidBatch(dir, layout, stateDir, 'crun', 'img-crash-crun');
    const left = binds();
    assert.equal(left.length, 1, 'the killed launcher left its one bind');
    assert.ok(hostMounts(stateDir).length > 0, 'and overlays on it');

    const launcher = await Launcher.open({ stateDir, runtime: 'crun' });
    try {
      assert.deepEqual(binds(), left, 'the same bind, reused');
      assert.deepEqual(hostMounts(stateDir), [], 'open unmounted the overlays of containers that no longer run');
      const proc = await launcher.start({ id: 'img-crash-crun-after', image: `oci:${layout}:v1` });
      assert.equal((await proc.exited).exitCode, 0);
      await launcher.gc();
      assert.deepEqual(hostMounts(stateDir), []);
    } finally {
      await launcher.close();
    }
    assert.deepEqual(binds(), [], 'close removed the bind');
  });
});
