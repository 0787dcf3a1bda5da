// The default bundle's own pid namespace with salvo-init as pid 1 (issue 14 part 2): a container
// can neither see nor signal host processes, signals and exit codes behave as on the host, and
// what salvo records (exit code and signal name) stays what happened to the command. Real runc and crun.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import type { BatchEvent, Launcher, StartSpec } from '../../src/index.js';
import { RUNTIMES, derivedBundle, openLauncher, removeTempDirs } from '../helpers.js';
import { isRunning } from './processes.js';

after(removeTempDirs);

for (const runtime of RUNTIMES) {
  describe(`the default bundle's pid namespace and salvo-init (${runtime})`, { timeout: 300_000 }, () => {
    let launcher: Launcher;
    let host: ChildProcess | undefined;
    after(async () => {
      host?.kill('SIGKILL');
      await launcher?.close();
    });

    /** Runs a container to its end; its output (stdout and stderr) and its recorded exit. */
    async function run(spec: Omit<StartSpec, 'stdio'>): Promise<{ code: number; signal: string | null; text: string }> {
      const proc = await launcher.start({ ...spec, stdio: 'fifo' });
      let text = '';
      proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const ended = [proc.stdout, proc.stderr].filter((s) => s !== null && !s.readableEnded).map((s) => once(s as NodeJS.ReadableStream, 'end'));
      const exit = await proc.exited;
      await Promise.all(ended);
      return { code: exit.exitCode, signal: exit.signal, text };
    }

    it('cannot signal or see a host process; salvo-init is pid 1', async () => {
      launcher = await openLauncher(runtime);
      host = spawn('sleep', ['1000'], { stdio: 'ignore' });
      await once(host, 'spawn');
      const pid = host.pid as number;
      const kill = await run({ id: 'pid-kill', args: ['/bin/sh', '-c', `kill -9 ${pid}`] });
      assert.notEqual(kill.code, 0, `kill -9 ${pid} failed in the container: ${kill.text}`);
      assert.ok(isRunning(pid), "the host's sleep lives");
      const ps = await run({ id: 'pid-ps', args: ['ps', '-o', 'pid,args'] });
      assert.equal(ps.code, 0, ps.text);
      assert.doesNotMatch(ps.text, /sleep 1000/, 'ps lists no host process');
      assert.match(ps.text, /^\s*1 \/dev\/\.salvo-init --status-dir \S+ -- ps -o pid,args$/m, "salvo's init is pid 1");
      assert.match(ps.text, /^\s*([2-9]|\d\d+) ps -o pid,args$/m, 'the command is not pid 1');
    });

    it("sees the host's processes only when hostPid is asked for", async () => {
      const ps = await run({ id: 'pid-host', args: ['/bin/ps', '-o', 'pid,args'], hostPid: true });
      assert.match(ps.text, new RegExp(`^\\s*${host?.pid as number} sleep 1000$`, 'm'));
    });

    it('records `kill -9 $$` as SIGKILL (137), `exit 137` as an exit, and `exit 7` as 7', async () => {
      assert.deepEqual(await run({ id: 'pid-k9', args: ['/bin/sh', '-c', 'kill -9 $$'] }), { code: 137, signal: 'SIGKILL', text: '' });
      assert.deepEqual(await run({ id: 'pid-e137', args: ['/bin/sh', '-c', 'exit 137'] }), { code: 137, signal: null, text: '' });
      assert.deepEqual(await run({ id: 'pid-e7', args: ['/bin/sh', '-c', 'exit 7'] }), { code: 7, signal: null, text: '' });
      assert.equal(launcher.get('pid-k9')?.signal, 'SIGKILL', 'the store says so too');
      assert.equal(launcher.get('pid-e137')?.signal, null);
    });

    it('stops at SIGTERM a command that has no handler for it (it is not pid 1), recorded as SIGTERM', async () => {
      const proc = await launcher.start({ id: 'pid-term', args: ['/bin/sleep', '1000'] });
      await launcher.kill('pid-term', 'SIGTERM');
      const exit = await proc.exited;
      assert.deepEqual([exit.exitCode, exit.signal], [143, 'SIGTERM']);
    });

    it('ends at a SIGTERM sent to its pid the moment its start is reported, however the start raced salvo-init', async () => {
      // Before salvo-init has blocked signals, pid 1 drops a SIGTERM from outside (5 of 60 here).
      const jobs = Array.from({ length: 40 }, (_, i) => ({ id: `pid-race-${i}`, args: ['/bin/sleep', '1000'], stdio: 'null' as const }));
      const exits: string[] = [];
      const onEvent = (event: BatchEvent): void => {
        if (event.type === 'started' && event.pid !== undefined) process.kill(event.pid, 'SIGTERM');
      };
      for await (const result of launcher.batch(jobs, { concurrency: 8, onEvent })) exits.push(`${result.id} ${result.exitCode} ${result.signal}`);
      assert.deepEqual(
        exits.filter((line) => !line.endsWith(' 143 SIGTERM')),
        [],
      );
      assert.equal(exits.length, 40);
    });

    it("reaps the command's orphans", async () => {
      // The orphan's parent exits at once; only pid 1 can reap it. Without that the loop never ends.
      const script = 'sh -c "sleep 0.2 &"; while ps -o stat,comm | grep -qE "^Z|sleep"; do sleep 0.1; done; echo reaped';
      assert.deepEqual(await run({ id: 'pid-orphan', args: ['/bin/sh', '-c', script] }), { code: 0, signal: null, text: 'reaped\n' });
    });

    it('runs the command as pid 1 with init: false', async () => {
      const result = await run({ id: 'pid-noinit', args: ['/bin/sh', '-c', 'echo $$; kill -9 $$; exit 4'], init: false });
      assert.deepEqual([result.code, result.text], [4, '1\n'], 'pid 1 ignores its own SIGKILL');
    });

    it("gives a bundle of the user's no init unless asked, and the init when asked", async () => {
      const bundle = await derivedBundle(launcher, () => undefined); // the default spec: its own pid namespace
      const own = await run({ id: 'pid-own', bundle, args: ['/bin/sh', '-c', 'echo $$'] });
      const asked = await run({ id: 'pid-own-init', bundle, args: ['/bin/sh', '-c', 'echo $$'], init: true });
      assert.equal(own.text, '1\n');
      assert.match(asked.text, /^\d+\n$/);
      assert.notEqual(asked.text, '1\n', 'the command is not pid 1 under the init');
    });

    it('still fails the start of a command that is not in the rootfs, as the runtime says', async () => {
      await assert.rejects(launcher.start({ id: 'pid-missing', args: ['no-such-command'] }), (error: { code: string; message: string }) => {
        assert.equal(error.code, 'ERR_RUNTIME_FAILED');
        assert.match(error.message, /no-such-command/);
        return true;
      });
    });
  });
}
