// exec into running containers, end to end with real runc and crun: exactly-once exits, the
// init's exit after its exec'd processes, the runtime's errors, and the lifecycle verbs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Exit, Launcher, Proc, SalvoError } from '../../src/index.js';
import { RUNTIMES, openLauncher, removeTempDirs, runtimeContainers, sleep, zombieChildren } from '../helpers.js';

after(removeTempDirs);

async function readAll(stream: NodeJS.ReadableStream | null): Promise<string> {
  let text = '';
  for await (const chunk of stream ?? []) text += chunk.toString();
  return text;
}

for (const runtime of RUNTIMES) {
  describe(`exec with ${runtime}`, { timeout: 600_000 }, () => {
    let launcher: Launcher;

    before(async () => {
      launcher = await openLauncher(runtime, { workers: 2, tasksPerWorker: 4 });
    });

    after(async () => {
      await launcher.close();
      await sleep(200);
      assert.deepEqual(zombieChildren(), [], 'no zombie is left once the launcher has closed');
    });

    it("records each of 100 concurrent execs exactly once with its own exit code, then the init's exit after them", async () => {
      const init = await launcher.start({ id: 'busy', args: ['/bin/sleep', '60'] });
      const codes = Array.from({ length: 100 }, (_, i) => (i * 37 + 1) % 256);
      const resolved: string[] = [];
      const began = Date.now();
      const procs = await Promise.all(codes.map((code) => launcher.exec('busy', { args: ['/bin/sh', '-c', `exit ${code}`] })));
      const startedMs = Date.now() - began;
      const exits = await Promise.all(procs.map((p) => p.exited.then((exit) => (resolved.push(exit.execId), exit))));
      exits.forEach((exit, i) => {
        assert.equal(exit.state, 'exited');
        assert.equal(exit.exitCode, codes[i], procs[i]?.execId);
        assert.equal(exit.signal, null);
        assert.equal(exit.id, 'busy');
      });
      assert.equal(new Set(procs.map((p) => p.execId)).size, 100, 'every exec has its own id');
      assert.equal(new Set(procs.map((p) => p.pid)).size, 100);
      // Nothing is deleted when an exec'd process ends: the container still runs.
      assert.equal((await launcher.state('busy')).status, 'running');

      void init.exited.then(() => resolved.push('init'));
      await launcher.kill('busy', 'SIGKILL');
      const initExit = await init.exited;
      assert.equal(initExit.exitCode, 137);
      assert.equal(resolved.at(-1), 'init', 'the init resolved after every exec');
      assert.equal(resolved.length, 101);

      const records = launcher.list({ id: 'busy' });
      const execRecords = records.filter((r) => r.execId !== 'init');
      assert.equal(execRecords.length, 100, 'one record per exec, no duplicates');
      for (const [i, proc] of procs.entries()) {
        const record = execRecords.find((r) => r.execId === proc.execId);
        assert.equal(record?.state, 'exited');
        assert.equal(record?.exitCode, codes[i]);
        assert.equal(readFileSync(join(proc.dir, 'exitStatus'), 'utf8'), `${codes[i]}\n`);
        assert.ok(existsSync(join(proc.dir, 'process.json')));
        assert.ok((record?.exitedAt ?? Infinity) <= (launcher.get('busy')?.exitedAt ?? 0), 'no exec exited after the init');
      }
      process.stderr.write(`# ${runtime}: 100 execs running in ${startedMs} ms\n`);
    });

    it("resolves the init after its exec'd processes when they die with it (own pid namespace)", async () => {
      // The default bundle has a pid namespace of its own (salvo-init is its pid 1).
      const init = await launcher.start({ id: 'pidns', args: ['/bin/sleep', '60'] });
      const execs = await Promise.all(Array.from({ length: 10 }, () => launcher.exec('pidns', { args: ['/bin/sleep', '60'] })));
      const resolved: string[] = [];
      for (const p of [init, ...execs]) void p.exited.then((exit) => resolved.push(exit.execId));
      // The kernel kills the namespace's other processes when its pid 1 dies.
      await launcher.kill('pidns', 'SIGKILL');
      const exits: Exit[] = await Promise.all(execs.map((p) => p.exited));
      const initExit = await init.exited;
      assert.ok(
        exits.every((e) => e.signal === 'SIGKILL' && e.exitCode === 137),
        JSON.stringify(exits.map((e) => e.exitCode)),
      );
      assert.equal(resolved.at(-1), 'init', resolved.join(' '));
      assert.ok(exits.every((e) => e.exitedAt <= initExit.exitedAt));
    });

    it("records an exec'd process that outlived its init once, after the init, when runtime delete stops it", async () => {
      const init = await launcher.start({ id: 'outlived', args: ['/bin/sleep', '60'], hostPid: true });
      const exec = await launcher.exec('outlived', { args: ['/bin/sleep', '60'] });
      // The host's pid namespace (asked for): killing the init leaves the exec'd process alive; the runtime's
      // delete (deleteAfterExit) then kills what is left in the container's cgroup.
      await launcher.kill('outlived', 'SIGKILL');
      const initExit = await init.exited;
      const exit = await exec.exited;
      assert.equal(exit.signal, 'SIGKILL');
      assert.ok(exit.exitedAt >= initExit.exitedAt);
      assert.equal(launcher.list({ id: 'outlived' }).filter((r) => r.execId === exec.execId).length, 1);
    });

    it("keeps tracking an exec'd process that outlives its init when nothing deletes the container", async () => {
      const keeper = await openLauncher(runtime, { deleteAfterExit: false });
      try {
        const init = await keeper.start({ id: 'survivor', args: ['/bin/sleep', '60'], hostPid: true });
        const exec = await keeper.exec('survivor', { args: ['/bin/sleep', '60'] });
        await keeper.kill('survivor', 'SIGKILL');
        assert.equal((await init.exited).exitCode, 137);
        await sleep(500);
        assert.equal(keeper.get('survivor', exec.execId)?.state, 'running', 'the init died alone');
        await keeper.kill('survivor', 'SIGTERM', { execId: exec.execId });
        const exit = await exec.exited;
        assert.equal(exit.exitCode, 143);
        assert.equal(exit.signal, 'SIGTERM');
        const records = keeper.list({ id: 'survivor' }).filter((r) => r.execId === exec.execId);
        assert.deepEqual(
          records.map((r) => [r.state, r.exitCode]),
          [['exited', 143]],
        );
        await assert.rejects(keeper.kill('survivor', 'SIGTERM', { execId: exec.execId }), { code: 'ERR_CONTAINER_STOPPED' });
        assert.deepEqual((await keeper.gc()).containersDeleted, ['survivor']);
      } finally {
        await keeper.close();
      }
    });

    it("fails an exec of a missing binary with ERR_RUNTIME_FAILED and the runtime's message; the container keeps running", async () => {
      const init = await launcher.start({ id: 'missing-binary', args: ['/bin/sleep', '60'] });
      await assert.rejects(launcher.exec('missing-binary', { args: ['/no/such/binary'], execId: 'nope' }), (error: SalvoError) => {
        assert.equal(error.code, 'ERR_RUNTIME_FAILED');
        assert.match(error.message, /\/no\/such\/binary/);
        assert.match(error.message, /no such file|not found/i);
        return true;
      });
      const record = launcher.get('missing-binary', 'nope');
      assert.equal(record?.state, 'failed');
      assert.equal(record?.errorCode, 'ERR_RUNTIME_FAILED');
      assert.equal(record?.exitCode, null, 'no exit code is invented');
      assert.equal((await launcher.state('missing-binary')).status, 'running');
      await launcher.kill('missing-binary', 'SIGKILL');
      await init.exited;
    });

    it('fails an exec into a stopped container with ERR_CONTAINER_STOPPED at once, and into an unknown one with ERR_NOT_FOUND', async () => {
      const init = await launcher.start({ id: 'stopped', args: ['/bin/sleep', '60'] });
      await launcher.kill('stopped', 'SIGKILL');
      await init.exited;
      const began = Date.now();
      await assert.rejects(launcher.exec('stopped', { args: ['/bin/true'] }), {
        code: 'ERR_CONTAINER_STOPPED',
        message: /stopped is not running \(exited\)/,
      });
      // The start timeout is 60 s: well under it means no runtime call was waited for.
      assert.ok(Date.now() - began < 10_000, 'no hang');
      await assert.rejects(launcher.exec('never-started', { args: ['/bin/true'] }), { code: 'ERR_NOT_FOUND' });
      assert.equal(launcher.list({ id: 'stopped' }).length, 1, 'no record for a refused exec');
    });

    it("runs with the container's config, and the exec's env, cwd, user and streamed output", async () => {
      const init = await launcher.start({ id: 'configured', args: ['/bin/sleep', '60'], env: { FROM_INIT: 'yes' } });
      const proc: Proc = await launcher.exec('configured', {
        args: ['/bin/sh', '-c', 'echo "$FROM_INIT $MINE $(pwd) $(id -u):$(id -g)"; echo oops >&2; exit 3'],
        env: { MINE: 'mine' },
        cwd: '/tmp',
        user: { uid: 1000, gid: 1001 },
        stdio: 'fifo',
        execId: 'configured-exec',
        labels: { purpose: 'test' },
      });
      const [out, err, exit] = await Promise.all([readAll(proc.stdout), readAll(proc.stderr), proc.exited]);
      assert.equal(out, 'yes mine /tmp 1000:1001\n');
      assert.equal(err, 'oops\n');
      assert.equal(exit.exitCode, 3);
      assert.equal(proc.execId, 'configured-exec');
      assert.deepEqual(launcher.get('configured', 'configured-exec')?.labels, { purpose: 'test' });
      // Once it has exited its id is free again, and its record stays as history.
      const again = await launcher.exec('configured', { args: ['/bin/true'], execId: 'configured-exec', stdio: 'null' });
      assert.equal((await again.exited).exitCode, 0);
      assert.deepEqual(
        launcher
          .list({ id: 'configured' })
          .filter((r) => r.execId === 'configured-exec')
          .map((r) => r.exitCode),
        [3, 0],
      );
      await launcher.kill('configured', 'SIGKILL');
      await init.exited;
    });

    it('refuses a second live exec with the same id with ERR_ID_IN_USE', async () => {
      const init = await launcher.start({ id: 'same-exec-id', args: ['/bin/sleep', '60'] });
      const first = await launcher.exec('same-exec-id', { args: ['/bin/sleep', '60'], execId: 'only' });
      await assert.rejects(launcher.exec('same-exec-id', { args: ['/bin/true'], execId: 'only' }), { code: 'ERR_ID_IN_USE' });
      await launcher.kill('same-exec-id', 'SIGKILL', { all: true });
      await Promise.all([first.exited, init.exited]);
    });

    it('pauses, resumes and reports state through the runtime', async () => {
      const init = await launcher.start({ id: 'paused', args: ['/bin/sleep', '60'] });
      const state = await launcher.state('paused');
      assert.equal(state.id, 'paused');
      assert.equal(state.status, 'running');
      assert.equal(state.pid, init.pid);
      await launcher.pause('paused');
      assert.equal((await launcher.state('paused')).status, 'paused');
      await launcher.resume('paused');
      assert.equal((await launcher.state('paused')).status, 'running');
      await launcher.kill('paused', 'SIGKILL');
      await init.exited;
      await assert.rejects(launcher.pause('paused'), { code: 'ERR_CONTAINER_STOPPED' });
      await assert.rejects(launcher.state('nobody'), { code: 'ERR_NOT_FOUND' });
      for (let i = 0; i < 100 && runtimeContainers(launcher).includes('paused'); i++) await sleep(100);
      await assert.rejects(launcher.state('paused'), { code: 'ERR_RUNTIME_FAILED' });
    });
  });
}
