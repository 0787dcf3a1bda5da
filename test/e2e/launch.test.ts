// The launch core end to end, with real runc and crun on the default busybox bundle.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { Launcher, SalvoError } from '../../src/index.js';
import type { Proc } from '../../src/index.js';
import { RUNTIMES, derivedBundle, openLauncher, removeTempDirs, runtimeContainers, sleep, zombieChildren } from '../helpers.js';

after(removeTempDirs);

for (const runtime of RUNTIMES) {
  describe(`launch core with ${runtime}`, { timeout: 600_000 }, () => {
    let launcher: Launcher;

    before(async () => {
      launcher = await openLauncher(runtime, { workers: 2, tasksPerWorker: 4 });
    });

    after(() => launcher.close());

    it('records its own exit code exactly once for each of 200 concurrent starts', async () => {
      const codes = Array.from({ length: 200 }, (_, i) => (i * 37) % 256);
      const procs = await Promise.all(
        codes.map((code, i) => launcher.start({ id: `many-${i}`, args: ['/bin/sh', '-c', `exit ${code}`], batchId: 'many' })),
      );
      const exits = await Promise.all(procs.map((p) => p.exited));
      exits.forEach((exit, i) => {
        assert.equal(exit.state, 'exited');
        assert.equal(exit.exitCode, codes[i], `many-${i}`);
        assert.equal(exit.signal, null);
      });
      const records = launcher.list({ batchId: 'many' });
      assert.equal(records.length, 200, 'one record per start, no duplicates');
      for (const record of records) {
        const i = Number(record.id.slice('many-'.length));
        assert.equal(record.state, 'exited');
        assert.equal(record.exitCode, codes[i]);
        assert.equal(readFileSync(join(record.dir, 'exitStatus'), 'utf8').trim(), String(record.exitCode));
      }
    });

    it('never loses a container that exits before the runtime CLI returns', async () => {
      const procs = await Promise.all(Array.from({ length: 30 }, (_, i) => launcher.start({ id: `quick-${i}`, args: ['/bin/true'] })));
      const exits = await Promise.all(procs.map((p) => p.exited));
      assert.ok(exits.every((e) => e.state === 'exited' && e.exitCode === 0));
      assert.ok(exits.every((e) => e.rusage !== null));
    });

    it('records SIGKILL as signal SIGKILL and exit code 137', async () => {
      const proc = await launcher.start({ id: 'killed-9', args: ['/bin/sleep', '60'] });
      await launcher.kill('killed-9', 'SIGKILL');
      const exit = await proc.exited;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(exit.exitCode, 137);
      assert.equal(launcher.get('killed-9')?.signal, 'SIGKILL');
    });

    it('records SIGTERM as signal SIGTERM and exit code 143', async () => {
      const proc = await launcher.start({ id: 'killed-15', args: ['/bin/sleep', '60'] });
      await launcher.kill('killed-15', 'SIGTERM');
      const exit = await proc.exited;
      assert.equal(exit.signal, 'SIGTERM');
      assert.equal(exit.exitCode, 143);
      assert.equal(launcher.get('killed-15')?.exitCode, 143);
    });

    it('records a process that kills itself with SIGKILL as 137', async () => {
      const proc = await launcher.start({ id: 'self-kill', args: ['/bin/sh', '-c', 'kill -9 $$'] });
      const exit = await proc.exited;
      assert.equal(exit.exitCode, 137);
      assert.equal(exit.signal, 'SIGKILL');
    });

    it("rejects a bundle whose config.json the runtime refuses with ERR_RUNTIME_FAILED and the runtime's text", async () => {
      const bundle = await derivedBundle(launcher, (config) => {
        config.mounts.push({ destination: '/broken', type: 'no-such-fs', source: 'none' });
      });
      await assert.rejects(launcher.start({ id: 'broken-config', bundle }), (error: SalvoError) => {
        assert.equal(error.code, 'ERR_RUNTIME_FAILED');
        assert.match(error.message, /no-such-fs|no such device|mount/i);
        return true;
      });
      const record = launcher.get('broken-config');
      assert.equal(record?.state, 'failed');
      assert.notEqual(record?.runtimeExitCode, 0);
      assert.equal(record?.exitCode, null, 'no container exit code is invented');
      assert.ok(!runtimeContainers(launcher).includes('broken-config'));
    });

    it("rejects a command that does not exist with ERR_RUNTIME_FAILED and the runtime's text", async () => {
      await assert.rejects(launcher.start({ id: 'no-such-command', args: ['/no/such/command'] }), (error: SalvoError) => {
        assert.equal(error.code, 'ERR_RUNTIME_FAILED');
        assert.match(error.message, /\/no\/such\/command/);
        assert.match(error.message, /no such file|not found/i);
        return true;
      });
      assert.equal(launcher.get('no-such-command')?.errorCode, 'ERR_RUNTIME_FAILED');
      assert.ok(!runtimeContainers(launcher).includes('no-such-command'));
    });

    it('rejects a bundle whose config.json is not JSON with ERR_BUNDLE_INVALID before spawning', async () => {
      const bundle = await derivedBundle(launcher, () => undefined);
      writeFileSync(join(bundle, 'config.json'), '{ "ociVersion": ');
      await assert.rejects(launcher.start({ id: 'not-json', bundle }), { code: 'ERR_BUNDLE_INVALID' });
      await assert.rejects(launcher.start({ id: 'no-bundle', bundle: '/no/such/bundle' }), { code: 'ERR_BUNDLE_NOT_FOUND' });
    });

    it('never steals a child of its own process: 200 execa and child_process children resolve while 100 containers start', async () => {
      const starts = Array.from({ length: 100 }, (_, i) =>
        launcher.start({ id: `beside-${i}`, args: ['/bin/sh', '-c', `exit ${i % 7}`] }).then((p) => p.exited),
      );
      const children = Array.from({ length: 200 }, (_, i) => {
        const code = i % 50;
        if (i % 2 === 0) return execa('/bin/sh', ['-c', `exit ${code}`], { reject: false }).then((r) => [r.exitCode, code]);
        return new Promise<[number | null, number]>((resolve, reject) => {
          const child = spawn('/bin/sh', ['-c', `exit ${code}`]);
          child.on('error', reject);
          child.on('exit', (exitCode) => resolve([exitCode, code]));
        });
      });
      const results = await Promise.all(children);
      for (const [got, want] of results) assert.equal(got, want);
      const exits = await Promise.all(starts);
      exits.forEach((exit, i) => assert.equal(exit.exitCode, i % 7));
    });

    it('refuses invalid ids before any directory or record is made', async () => {
      const containers = join(launcher.stateDir, 'containers');
      const before = readdirSync(containers).length;
      for (const id of ['../x', '', 'a'.repeat(200), 'a/b', '.hidden', 'nul\0byte']) {
        await assert.rejects(launcher.start({ id, args: ['/bin/true'] }), { code: 'ERR_INVALID_ID' });
        assert.equal(launcher.get(id), undefined);
      }
      assert.equal(readdirSync(containers).length, before);
      assert.ok(!existsSync(join(launcher.stateDir, 'x')));
    });

    it('refuses a second start of an id that is still running with ERR_ID_IN_USE', async () => {
      const proc = await launcher.start({ id: 'twice', args: ['/bin/sleep', '60'] });
      await assert.rejects(launcher.start({ id: 'twice', args: ['/bin/true'] }), { code: 'ERR_ID_IN_USE' });
      await launcher.kill('twice', 'SIGKILL');
      await proc.exited;
    });

    it('refuses a second launcher on the same state directory with ERR_STATE_LOCKED', async () => {
      await assert.rejects(Launcher.open({ stateDir: launcher.stateDir, runtime }), { code: 'ERR_STATE_LOCKED' });
    });

    it('writes the process directory files: log.json, pid, exit fifo, exitStatus and output logs', async () => {
      const proc: Proc = await launcher.start({ id: 'files', args: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'] });
      const exit = await proc.exited;
      assert.equal(exit.exitCode, 3);
      assert.equal(readFileSync(join(proc.dir, 'pid'), 'utf8').trim(), String(proc.pid));
      assert.equal(readFileSync(join(proc.dir, 'exitStatus'), 'utf8'), '3\n');
      assert.equal(readFileSync(join(proc.dir, 'stdout.log'), 'utf8'), 'out\n');
      assert.equal(readFileSync(join(proc.dir, 'stderr.log'), 'utf8'), 'err\n');
      assert.ok(existsSync(join(proc.dir, 'exit')));
    });

    it('closes the exit fifo when the process exits, so a watcher sees EOF', async () => {
      const proc = await launcher.start({ id: 'watched', args: ['/bin/sleep', '0.5'] });
      const watcher = execa('/bin/cat', [join(proc.dir, 'exit')]);
      const result = await watcher;
      assert.equal(result.exitCode, 0);
      const exit = await proc.exited;
      assert.equal(exit.exitCode, 0);
    });

    it('streams stdout and stderr through fifos when asked', async () => {
      const proc = await launcher.start({
        id: 'streamed',
        args: ['/bin/sh', '-c', 'echo one; sleep 0.2; echo two; echo bad >&2'],
        stdio: 'fifo',
      });
      const read = async (stream: NodeJS.ReadableStream | null): Promise<string> => {
        let text = '';
        for await (const chunk of stream ?? []) text += chunk.toString();
        return text;
      };
      const [out, err, exit] = await Promise.all([read(proc.stdout), read(proc.stderr), proc.exited]);
      assert.equal(out, 'one\ntwo\n');
      assert.equal(err, 'bad\n');
      assert.equal(exit.exitCode, 0);
    });

    it('starts with create then start when asked, with the same result', async () => {
      const proc = await launcher.start({ id: 'two-phase', args: ['/bin/sh', '-c', 'exit 9'], startMode: 'create-start' });
      assert.equal((await proc.exited).exitCode, 9);
    });

    it('merges env over the bundle env and never puts it in the runtime environment', async () => {
      const proc = await launcher.start({
        id: 'env',
        args: ['/bin/sh', '-c', 'test "$SECRET" = s3cret && test -n "$PATH"'],
        env: { SECRET: 's3cret' },
      });
      assert.equal((await proc.exited).exitCode, 0);
    });

    it('deletes every finished container from the runtime', async () => {
      // Deletes run in the background at low priority: close waits for them.
      const proc = await launcher.start({ id: 'deleted', args: ['/bin/true'] });
      await proc.exited;
      for (let i = 0; i < 100 && runtimeContainers(launcher).includes('deleted'); i++) await sleep(100);
      assert.ok(!runtimeContainers(launcher).includes('deleted'));
    });

    // Last of this block: it closes the launcher.
    it('leaves no zombie behind once the launcher has closed', async () => {
      await launcher.close();
      await sleep(200);
      assert.deepEqual(zombieChildren(), []);
    });
  });
}

describe('queued starts', () => {
  it('prints no MaxListenersExceededWarning when 500 starts queue on one launcher', async () => {
    const launcher = await openLauncher(RUNTIMES[0] as string, { workers: 1, tasksPerWorker: 1 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const starts = Array.from({ length: 500 }, (_, i) => launcher.start({ id: `arch-queued-${i}`, args: ['/bin/true'] }));
      const settled = Promise.allSettled(starts);
      // Once one has started, the others (past the shared default bundle) wait in the pool's queue.
      await (
        await starts[0]
      )?.exited;
      await launcher.close();
      const results = await settled;
      const dropped = results.filter((r) => r.status === 'rejected' && (r.reason as SalvoError).code === 'ERR_LAUNCHER_CLOSED');
      assert.ok(dropped.length > 400, `${dropped.length} of 500 starts were still queued at close (else this proves nothing)`);
      await sleep(50); // warnings are emitted on a later tick
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await launcher.close();
    }
  });
});

// The execa spawner (child_process through salvo-exec) is the fallback: the key launch paths once more on it.
for (const runtime of RUNTIMES) {
  describe(`launch core with ${runtime} on the execa spawner`, { timeout: 600_000 }, () => {
    let launcher: Launcher;

    before(async () => {
      launcher = await openLauncher(runtime, { workers: 2, tasksPerWorker: 4, spawner: 'execa' });
    });

    after(async () => {
      await launcher.close();
      await sleep(200);
      assert.deepEqual(zombieChildren(), []);
    });

    it('records each exit code once for 40 concurrent starts, run or create-start, and deletes them all', async () => {
      const procs = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          launcher.start({
            id: `lx-many-${i}`,
            args: ['/bin/sh', '-c', `exit ${i}`],
            batchId: 'lx',
            startMode: i % 4 === 0 ? 'create-start' : 'run',
          }),
        ),
      );
      const exits = await Promise.all(procs.map((p) => p.exited));
      assert.deepEqual(
        exits.map((e) => e.exitCode),
        Array.from({ length: 40 }, (_, i) => i),
      );
      assert.equal(launcher.list({ batchId: 'lx' }).length, 40);
      // `runc list` fails when a container's directory goes while it lists: that is a delete under way.
      const left = (): string[] => {
        try {
          return runtimeContainers(launcher).filter((id) => id.startsWith('lx-many-'));
        } catch {
          return ['(a delete was under way)'];
        }
      };
      for (let i = 0; i < 100 && left().length > 0; i++) await sleep(100);
      assert.deepEqual(left(), []);
    });

    it('records a kill as its signal and 128 + signo', async () => {
      const proc = await launcher.start({ id: 'lx-killed', args: ['/bin/sleep', '60'] });
      await launcher.kill('lx-killed', 'SIGKILL');
      assert.deepEqual([(await proc.exited).signal, (await proc.exited).exitCode], ['SIGKILL', 137]);
    });

    it("rejects a command that does not exist with ERR_RUNTIME_FAILED and the runtime's text", async () => {
      await assert.rejects(launcher.start({ id: 'lx-no-such-command', args: ['/no/such/command'] }), (error: SalvoError) => {
        assert.equal(error.code, 'ERR_RUNTIME_FAILED');
        assert.match(error.message, /\/no\/such\/command/);
        return true;
      });
    });
  });
}

describe('launcher options', () => {
  it('names the option and the value it refuses', async () => {
    await assert.rejects(Launcher.open({ workers: 0 } as never), /option workers must be an integer from 1 to 64, got 0/);
    await assert.rejects(Launcher.open({ nonsense: 1 } as never), { code: 'ERR_INVALID_OPTION', message: 'unknown option nonsense' });
  });

  it('refuses a runtime binary that does not exist with ERR_RUNTIME_NOT_FOUND', async () => {
    const stateDir = join((await import('../helpers.js')).tempDir(), 'state');
    await assert.rejects(Launcher.open({ stateDir, runtime: '/no/such/runc' }), { code: 'ERR_RUNTIME_NOT_FOUND' });
    await assert.rejects(Launcher.open({ stateDir, runtime: 'no-such-runtime' }), { code: 'ERR_RUNTIME_NOT_FOUND' });
    mkdirSync(stateDir, { recursive: true });
  });
});
