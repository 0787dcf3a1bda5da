// Bad input and a bad environment: each is refused with a clear SalvoError code and message, and
// leaves nothing behind: no record that is not final, no process directory beyond the documented
// ones (a runtime failure keeps log.json), no container in the runtime.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Launcher, SalvoError } from '../../src/index.js';
import type { JobResult, JobSpec } from '../../src/index.js';
import { resolveRuntime } from '../../src/runtime/resolve.js';
import { RUNTIMES, fillFilesystem, derivedBundle, lastRunDir, openLauncher, removeTempDirs, runtimeContainers, tempDir } from '../helpers.js';
import { hungRuntimePid, writeFakeRuntime } from './fake-runtime.js';
import { isRunning, waitFor } from './processes.js';

after(removeTempDirs);

const BAD_IDS = ['a/b', '../x', '..', 'nul\0byte', 'x'.repeat(1000)];

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SalvoError, `not a SalvoError: ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

/** The start left a final record (or none), no container, and a process directory only if `keepsDir`. */
function assertNothingLeft(launcher: Launcher, id: string, keepsDir: boolean): void {
  const record = launcher.get(id);
  if (record !== undefined) assert.equal(record.state, 'failed', `${id}: its record is final`);
  assert.ok(!runtimeContainers(launcher).includes(id), `${id}: no container in the runtime`);
  assert.equal(
    existsSync(join(launcher.stateDir, 'containers', id)),
    keepsDir,
    `${id}: process directory ${keepsDir ? 'kept (log.json)' : 'not left'}`,
  );
}

async function collect(results: AsyncIterable<JobResult>): Promise<JobResult[]> {
  const all: JobResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

for (const runtime of RUNTIMES) {
  describe(`bad input (${runtime})`, { timeout: 300_000 }, () => {
    let launcher: Launcher;
    before(async () => {
      launcher = await openLauncher(runtime);
    });
    after(async () => {
      await launcher.close();
    });

    it('refuses a missing bundle directory with ERR_BUNDLE_NOT_FOUND', async () => {
      await rejectsWith(
        launcher.start({ id: 'no-bundle', bundle: '/no/such/bundle' }),
        'ERR_BUNDLE_NOT_FOUND',
        /bundle \/no\/such\/bundle does not exist/,
      );
      assertNothingLeft(launcher, 'no-bundle', false);
    });

    it('refuses a bundle without config.json with ERR_BUNDLE_NOT_FOUND', async () => {
      const bundle = tempDir('salvo-bundle-');
      await rejectsWith(launcher.start({ id: 'no-config', bundle }), 'ERR_BUNDLE_NOT_FOUND', /has no config\.json/);
      assertNothingLeft(launcher, 'no-config', false);
    });

    it('refuses a config.json that is not JSON with ERR_BUNDLE_INVALID', async () => {
      const bundle = tempDir('salvo-bundle-');
      writeFileSync(join(bundle, 'config.json'), '{ "ociVersion": "1.0.2", ');
      await rejectsWith(launcher.start({ id: 'not-json', bundle }), 'ERR_BUNDLE_INVALID', /config\.json is not valid JSON/);
      assertNothingLeft(launcher, 'not-json', false);
    });

    it('refuses a bundle whose rootfs is missing with ERR_BUNDLE_INVALID before the runtime runs', async () => {
      const bundle = await derivedBundle(launcher, (config) => {
        config.root.path = '/no/such/rootfs';
      });
      await rejectsWith(launcher.start({ id: 'no-rootfs', bundle }), 'ERR_BUNDLE_INVALID', /rootfs \/no\/such\/rootfs \(root\.path\) does not exist/);
      await rejectsWith(launcher.start({ id: 'no-rootfs-args', bundle, args: ['/bin/true'] }), 'ERR_BUNDLE_INVALID', /rootfs/);
      assertNothingLeft(launcher, 'no-rootfs', false);
      assertNothingLeft(launcher, 'no-rootfs-args', false);
    });

    it("refuses a command missing from the rootfs with ERR_RUNTIME_FAILED and the runtime's words", async () => {
      await rejectsWith(
        launcher.start({ id: 'no-command', args: ['/no/such/command'] }),
        'ERR_RUNTIME_FAILED',
        /\/no\/such\/command.*(no such file|not found)/i,
      );
      assert.equal(launcher.get('no-command')?.exitCode, null, 'no exit code is invented');
      assertNothingLeft(launcher, 'no-command', true);
    });

    it('runs the first of two jobs with one id and refuses the second with ERR_DUPLICATE_ID', async () => {
      const results = await collect(
        launcher.batch(
          [
            { id: 'twice', args: ['/bin/sh', '-c', 'exit 7'] },
            { id: 'twice', args: ['/bin/true'] },
          ],
          { batchId: 'dup' },
        ),
      );
      const refused = results.find((r) => r.state === 'failed');
      assert.equal(refused?.error?.code, 'ERR_DUPLICATE_ID');
      assert.match(refused?.error?.message ?? '', /id twice appears twice in batch dup/);
      assert.deepEqual([results.find((r) => r.state === 'exited')?.exitCode], [7]);
      assert.equal(launcher.list({ batchId: 'dup' }).length, 1, 'the refused job made no record');
    });

    it('refuses an id that is still running with ERR_ID_IN_USE and leaves the running one alone', async () => {
      const running = await launcher.start({ id: 'in-use', args: ['/bin/sh', '-c', 'sleep 0.5; exit 4'] });
      await rejectsWith(launcher.start({ id: 'in-use', args: ['/bin/true'] }), 'ERR_ID_IN_USE', /container in-use is already subscribed or running/);
      const [result] = await collect(launcher.batch([{ id: 'in-use', args: ['/bin/true'] }]));
      assert.equal(result?.error?.code, 'ERR_ID_IN_USE');
      assert.equal((await running.exited).exitCode, 4, 'the running container ran to its own end');
      assert.equal(launcher.list({ id: 'in-use' }).length, 1, 'no second record');
    });

    it('refuses ids with /, .., NUL or 1,000 characters with ERR_INVALID_ID before any record or directory', async () => {
      const records = launcher.list().length;
      const dirs = readdirSync(join(launcher.stateDir, 'containers')).length;
      for (const id of BAD_IDS) {
        const length = id.length > 128 ? /\(1000 characters, at most 128\)/ : /is invalid/;
        await rejectsWith(launcher.start({ id, args: ['/bin/true'] }), 'ERR_INVALID_ID', length);
      }
      const results = await collect(launcher.batch(BAD_IDS.map((id): JobSpec => ({ id, args: ['/bin/true'] }))));
      assert.deepEqual(
        results.map((r) => r.error?.code),
        BAD_IDS.map(() => 'ERR_INVALID_ID'),
      );
      assert.equal(launcher.list().length, records);
      assert.equal(readdirSync(join(launcher.stateDir, 'containers')).length, dirs);
      assert.ok(!existsSync(join(launcher.stateDir, 'x')) && !existsSync(join(launcher.stateDir, 'containers', 'a')));
    });
  });

  describe(`a bad environment (${runtime})`, { timeout: 300_000 }, () => {
    it('refuses a runtime binary that is missing, not executable, or not a runtime with ERR_RUNTIME_NOT_FOUND, and frees the state directory', async () => {
      const dir = tempDir();
      const stateDir = join(dir, 'state');
      const notExecutable = join(dir, 'runc-no-x');
      copyFileSync(resolveRuntime(runtime).path, notExecutable);
      chmodSync(notExecutable, 0o644);
      const notARuntime = join(dir, 'not-a-runtime');
      writeFileSync(notARuntime, '#!/bin/sh\necho "what is --version?" >&2\nexit 1\n');
      chmodSync(notARuntime, 0o755);
      await rejectsWith(Launcher.open({ stateDir, runtime: join(dir, 'missing') }), 'ERR_RUNTIME_NOT_FOUND', /missing or not executable/);
      await rejectsWith(Launcher.open({ stateDir, runtime: notExecutable }), 'ERR_RUNTIME_NOT_FOUND', /missing or not executable/);
      await rejectsWith(Launcher.open({ stateDir, runtime: notARuntime }), 'ERR_RUNTIME_NOT_FOUND', /--version failed.*what is --version/);
      await (await Launcher.open({ stateDir, runtime })).close(); // the lock was released each time
    });

    it('reports a runtime binary that vanished after open as ERR_RUNTIME_NOT_FOUND, with nothing left', async () => {
      const dir = tempDir();
      const copy = join(dir, 'bin', runtime);
      mkdirSync(join(dir, 'bin'));
      copyFileSync(resolveRuntime(runtime).path, copy);
      chmodSync(copy, 0o755);
      const launcher = await Launcher.open({ stateDir: join(dir, 'state'), runtime: copy });
      try {
        await launcher.defaultBundle();
        rmSync(copy);
        await rejectsWith(
          launcher.start({ id: 'vanished', args: ['/bin/true'] }),
          'ERR_RUNTIME_NOT_FOUND',
          new RegExp(`ENOENT: No such file or directory, spawn ${copy}`),
        );
        assert.equal(launcher.get('vanished')?.state, 'failed');
      } finally {
        await launcher.close();
      }
    });

    it('reports a runtime that hangs as ERR_RUNTIME_HUNG after the start timeout, and kills it', async () => {
      const dir = tempDir();
      const fake = writeFakeRuntime(dir, runtime);
      const launcher = await Launcher.open({ stateDir: join(dir, 'state'), runtime: fake.path, startTimeoutMs: 1500 });
      try {
        await launcher.defaultBundle();
        // hang-: hung before making anything; late-: hung after the container was running.
        for (const id of ['hang-1', 'late-1']) {
          const began = Date.now();
          await rejectsWith(launcher.start({ id, args: ['/bin/sleep', '60'] }), 'ERR_RUNTIME_HUNG', /did not return within 1500 ms and was killed/);
          assert.ok(Date.now() - began < 15_000, 'within the timeout and the cleanup');
          const runtimePid = hungRuntimePid(fake, id) as number;
          await waitFor(`the hung runtime of ${id} to be gone`, () => !isRunning(runtimePid), 5000);
          assertNothingLeft(launcher, id, true);
        }
        const late = Number(readContainerPid(launcher.stateDir, 'late-1'));
        assert.ok(late > 0 && !isRunning(late), 'the container the hung runtime had started was killed');
      } finally {
        await launcher.close();
      }
    });

    it('refuses a state directory it cannot write (a read-only tmpfs, a read-only bind mount) with ERR_STATE_DIR', async () => {
      const readOnly = tempDir();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
      try {
        await rejectsWith(
          Launcher.open({ stateDir: join(readOnly, 'state'), runtime }),
          'ERR_STATE_DIR',
          /cannot create state directory .*read-only file system/i,
        );
      } finally {
        execFileSync('umount', [readOnly]);
      }
      const stateDir = join(tempDir(), 'state');
      await (await Launcher.open({ stateDir, runtime })).close();
      execFileSync('mount', ['--bind', stateDir, stateDir]);
      try {
        execFileSync('mount', ['-o', 'remount,ro,bind', stateDir]);
        await rejectsWith(Launcher.open({ stateDir, runtime }), 'ERR_STATE_DIR', /is not writable/);
      } finally {
        execFileSync('umount', [stateDir]);
      }
      await (await Launcher.open({ stateDir, runtime })).close(); // writable again: nothing was broken
    });

    it('reports a full disk while writing the process directory as ERR_STATE_DIR, and recovers once there is room', async () => {
      await onSmallTmpfs(runtime, 'size=256k', async (launcher, containers) => {
        fillFilesystem(join(containers, 'filler'));
        // A derived config.json cannot be written; without one the runtime cannot write its log and pid.
        await rejectsWith(launcher.start({ id: 'full-derived', args: ['/bin/true'] }), 'ERR_STATE_DIR', /ENOSPC|no space left/i);
        assertNothingLeft(launcher, 'full-derived', false);
        // A bundle with a cgroupsPath of its own needs no derived config: the runtime itself finds no room.
        const bundle = await derivedBundle(launcher, (config) => {
          config.linux.cgroupsPath = `/iso-full-plain-${process.pid}`;
        });
        await rejectsWith(launcher.start({ id: 'full-plain', bundle }), 'ERR_STATE_DIR', /no space left on the filesystem of .*full-plain/);
        assertNothingLeft(launcher, 'full-plain', true);
        rmSync(join(containers, 'filler'));
        const proc = await launcher.start({ id: 'room-again', args: ['/bin/sh', '-c', 'exit 5'] });
        assert.equal((await proc.exited).exitCode, 5);
      });
    });

    it('reports a process directory that cannot be made for streamed output or a terminal as ERR_STATE_DIR', async () => {
      // Few inodes: once they are used up, the main thread's prepare (fifos, console socket) cannot mkdir.
      await onSmallTmpfs(runtime, 'size=1m,nr_inodes=64', async (launcher, containers) => {
        fillInodes(join(containers, 'filler'));
        await rejectsWith(launcher.start({ id: 'no-inode-fifo', args: ['/bin/true'], stdio: 'fifo' }), 'ERR_STATE_DIR', /no space left/i);
        assertNothingLeft(launcher, 'no-inode-fifo', false);
        await rejectsWith(launcher.start({ id: 'no-inode-tty', args: ['/bin/true'], terminal: true }), 'ERR_STATE_DIR', /no space left/i);
        assertNothingLeft(launcher, 'no-inode-tty', false);
      });
    });
  });
}

/** A launcher whose process directories (containers/) are on a small tmpfs, with the default bundle ready. */
async function onSmallTmpfs(runtime: string, size: string, body: (launcher: Launcher, containers: string) => Promise<void>): Promise<void> {
  const stateDir = join(tempDir(), 'state');
  const containers = join(stateDir, 'containers');
  mkdirSync(containers, { recursive: true, mode: 0o700 });
  // Before open: crun's mount namespace (hybrid hosts) is made with it.
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${size},mode=0700`, 'tmpfs', containers]);
  try {
    const launcher = await Launcher.open({ stateDir, runtime });
    try {
      await launcher.defaultBundle();
      await body(launcher, containers);
    } finally {
      await launcher.close();
    }
  } finally {
    execFileSync('umount', [containers]);
  }
}

function readContainerPid(stateDir: string, id: string): string {
  try {
    return readFileSync(join(lastRunDir(stateDir, id), 'pid'), 'utf8').trim();
  } catch {
    return '';
  }
}

/** Writes zeros until the filesystem is full. */

/** Makes empty files until the filesystem has no inode left. */
function fillInodes(dir: string): void {
  mkdirSync(dir);
  try {
    for (let i = 0; ; i++) writeFileSync(join(dir, String(i)), '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
}
