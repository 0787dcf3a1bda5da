// Checkpoint and restore with real runc and crun. On a kernel where CRIU cannot dump (`criu
// check` fails, as on these VMs) both must fail with CRIU's own words and leave nothing behind;
// the round trip runs only where `criu check` passes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Launcher, SalvoError } from '../../src/index.js';
import { CHECKPOINT_FILE } from '../../src/runtime/checkpoint-file.js';
import { criuErrors } from '../../src/runtime/criu-log.js';
import { RUNTIMES, openLauncher, removeTempDirs, runDirs, runtimeContainers, sleep, tempDir, zombieChildren } from '../helpers.js';

after(removeTempDirs);

/** Null when CRIU works here, else why not (what `criu check` says). */
function criuProblem(): string | null {
  try {
    execFileSync('criu', ['check'], { stdio: 'pipe' });
    return null;
  } catch (error) {
    const { stderr, stdout, message } = error as { stderr?: Buffer; stdout?: Buffer; message: string };
    const errors = criuErrors(`${stderr?.toString() ?? ''}${stdout?.toString() ?? ''}`);
    return `criu check fails: ${errors.length > 0 ? errors.join('; ') : message}`;
  }
}

/** Null when the runtime has checkpoint/restore, else why not (crun lists +CRIU in its features). */
function runtimeProblem(runtime: string): string | null {
  if (runtime !== 'crun') return null;
  const version = execFileSync('crun', ['--version'], { encoding: 'utf8' });
  return version.includes('+CRIU') ? null : 'crun was built without CRIU (its --version lists no +CRIU)';
}

const CRIU = criuProblem();

for (const runtime of RUNTIMES) {
  const runtimeLacks = runtimeProblem(runtime);
  const cannotDump = CRIU ?? runtimeLacks;
  describe(`checkpoint and restore with ${runtime}`, { timeout: 300_000 }, () => {
    let launcher: Launcher;

    before(async () => {
      launcher = await openLauncher(runtime);
    });

    after(async () => {
      await launcher.close();
      await sleep(200);
      assert.deepEqual(zombieChildren(), []);
    });

    it(
      "fails a checkpoint with ERR_RUNTIME_FAILED carrying CRIU's own error, and the container keeps running",
      { skip: cannotDump === null ? 'CRIU works here: the round trip below covers checkpoints' : false },
      async () => {
        const init = await launcher.start({ id: 'cp-fails', args: ['/bin/sleep', '60'] });
        await assert.rejects(launcher.checkpoint('cp-fails', { name: 'first', tcpEstablished: true }), (error: SalvoError) => {
          assert.equal(error.code, 'ERR_RUNTIME_FAILED');
          if (runtimeLacks !== null) assert.match(error.message, /unknown command checkpoint \(this runtime was built without CRIU support\)/);
          else assert.match(error.message, /criu failed: type DUMP .*— CRIU \(.*dump\.log\): Error \(criu\/[a-z-]+\.c:\d+\)/);
          assert.equal(error.message.split('\n').length, 1);
          return true;
        });
        assert.equal((await launcher.state('cp-fails')).status, 'running');
        const dir = join(launcher.get('cp-fails')?.bundle ?? '', 'checkpoints', 'first');
        assert.ok(!existsSync(join(dir, CHECKPOINT_FILE)), 'no record vouches for images that were not written');
        await launcher.kill('cp-fails', 'SIGKILL');
        await init.exited;
      },
    );

    it(
      "fails a restore with ERR_RUNTIME_FAILED carrying CRIU's own error, and leaves no container behind",
      { skip: cannotDump === null ? 'CRIU works here: the round trip below covers restores' : false },
      async () => {
        // runc writes descriptors.json before CRIU fails, so a failed checkpoint's directory
        // takes a restore as far as CRIU itself.
        const init = await launcher.start({ id: 'cp-source', args: ['/bin/sleep', '60'] });
        const dir = join(tempDir(), 'images');
        await assert.rejects(launcher.checkpoint('cp-source', { dir, leaveRunning: true }), { code: 'ERR_RUNTIME_FAILED' });
        await launcher.kill('cp-source', 'SIGKILL');
        await init.exited;
        const imagesDir = runtimeLacks === null ? dir : tempDir();
        await assert.rejects(launcher.start({ id: 'restored', checkpoint: { dir: imagesDir } }), (error: SalvoError) => {
          assert.equal(error.code, 'ERR_RUNTIME_FAILED');
          if (runtimeLacks !== null) assert.match(error.message, /unknown command restore \(this runtime was built without CRIU support\)/);
          else assert.match(error.message, /criu failed: type RESTORE .*— CRIU \(.*restore\.log\): Error \(criu\/[a-z-]+\.c:\d+\)/);
          return true;
        });
        assert.equal(launcher.get('restored')?.state, 'failed');
        assert.equal(launcher.get('restored')?.exitCode, null);
        assert.ok(!runtimeContainers(launcher).includes('restored'), 'nothing left in runtime list');
        assert.equal(launcher.liveCount, 0, 'nothing tracked');
      },
    );

    it('refuses a restore from a checkpoint that does not exist with ERR_CHECKPOINT_NOT_FOUND before the runtime runs', async () => {
      await assert.rejects(launcher.start({ id: 'no-images', checkpoint: { name: 'never-made' } }), {
        code: 'ERR_CHECKPOINT_NOT_FOUND',
        message: /checkpoints\/never-made/,
      });
      assert.ok(!runDirs(launcher.stateDir, 'no-images').some((dir) => existsSync(join(dir, 'log.json'))), 'the runtime never ran');
      await assert.rejects(launcher.checkpoint('no-such-container', { name: 'x' }), { code: 'ERR_NOT_FOUND' });
    });

    it(
      'checkpoints a running container, stores its CRIU flags, and restores it with them',
      { skip: cannotDump === null ? false : `needs a working CRIU: ${cannotDump}` },
      async () => {
        const init = await launcher.start({ id: 'round-trip', args: ['/bin/sleep', '60'] });
        const result = await launcher.checkpoint('round-trip', { name: 'rt', fileLocks: true });
        assert.equal(result.leftRunning, false);
        assert.ok(
          readdirSync(result.dir).some((f) => f.endsWith('.img')),
          'CRIU wrote images',
        );
        const stored = JSON.parse(readFileSync(join(result.dir, CHECKPOINT_FILE), 'utf8')) as { criu: Record<string, boolean> };
        assert.deepEqual(stored.criu, { tcpEstablished: false, extUnixSk: false, shellJob: false, fileLocks: true });
        await init.exited; // a checkpoint without leaveRunning stops the container
        const restored = await launcher.start({ id: 'round-trip-2', checkpoint: { name: 'rt' } });
        assert.equal((await launcher.state('round-trip-2')).status, 'running');
        await launcher.kill('round-trip-2', 'SIGKILL');
        assert.equal((await restored.exited).signal, 'SIGKILL');
      },
    );
  });
}
