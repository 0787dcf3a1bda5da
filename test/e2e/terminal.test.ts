// Containers and exec'd processes with a terminal, end to end with real runc and crun: the pty
// master comes over the console socket; the test types into it, reads it, and resizes it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Launcher, Terminal } from '../../src/index.js';
import { RUNTIMES, openLauncher, removeTempDirs, runDirs, runtimeContainers, sleep, zombieChildren } from '../helpers.js';

after(removeTempDirs);

/** Everything the pty prints, and a way to wait until it has printed a match. */
function screen(terminal: Terminal): { text: () => string; until: (pattern: RegExp) => Promise<string> } {
  let text = '';
  terminal.stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    text: () => text,
    async until(pattern: RegExp): Promise<string> {
      for (let i = 0; i < 2000; i++) {
        const match = pattern.exec(text);
        if (match !== null) return match[0];
        await sleep(10);
      }
      assert.fail(`the terminal never showed ${pattern}; it showed ${JSON.stringify(text)}`);
    },
  };
}

for (const runtime of RUNTIMES) {
  describe(`terminals with ${runtime}`, { timeout: 300_000 }, () => {
    let launcher: Launcher;

    before(async () => {
      launcher = await openLauncher(runtime);
    });

    after(async () => {
      await launcher.close();
      await sleep(200);
      assert.deepEqual(zombieChildren(), []);
    });

    it('runs a shell on a pty: typed input is answered, resize changes stty size, exit ends the stream', async () => {
      const proc = await launcher.start({ id: 'tty-shell', args: ['/bin/sh'], terminal: true });
      assert.ok(proc.terminal !== null);
      const output = screen(proc.terminal);
      const ended = new Promise<void>((resolve) => proc.terminal?.stream.on('end', resolve));
      proc.terminal.stream.write('echo $((6*7))\n');
      await output.until(/^42\r?$/m);
      proc.terminal.resize(100, 40);
      proc.terminal.stream.write('stty size\n');
      assert.equal((await output.until(/^\d+ \d+\r?$/m)).trim(), '40 100');
      proc.terminal.stream.write('tty; exit 5\n');
      await output.until(/\/dev\/pts\/\d+/);
      assert.equal((await proc.exited).exitCode, 5);
      await ended;
      assert.throws(() => proc.terminal?.resize(80, 24), { code: 'ERR_TERMINAL_CLOSED' });
      assert.ok(!existsSync(join(proc.dir, 'console.sock')), 'the console socket is gone');
    });

    it('starts a terminal at the size asked for, 80x24 by default', async () => {
      const args = ['/bin/sh', '-c', 'stty size; sleep 0.5'];
      const sized = await launcher.start({ id: 'tty-sized', args, terminal: true, terminalSize: { cols: 132, rows: 50 } });
      const standard = await launcher.start({ id: 'tty-default', args, terminal: true });
      assert.equal(await screen(sized.terminal as Terminal).until(/\d+ \d+/), '50 132');
      assert.equal(await screen(standard.terminal as Terminal).until(/\d+ \d+/), '24 80');
      assert.deepEqual([(await sized.exited).exitCode, (await standard.exited).exitCode], [0, 0]);
    });

    it('gives an exec a terminal of its own in a running container', async () => {
      const init = await launcher.start({ id: 'tty-exec', args: ['/bin/sleep', '60'] });
      assert.equal(init.terminal, null);
      const proc = await launcher.exec('tty-exec', { args: ['/bin/sh'], terminal: true });
      assert.ok(proc.terminal !== null);
      const output = screen(proc.terminal);
      proc.terminal.stream.write('echo $((6*7))\n');
      await output.until(/^42\r?$/m);
      proc.terminal.resize(100, 40);
      proc.terminal.stream.write('stty size; exit 7\n');
      assert.equal(await output.until(/^40 100\r?$/m).then((s) => s.trim()), '40 100');
      assert.equal((await proc.exited).exitCode, 7);
      assert.equal(launcher.get('tty-exec', proc.execId)?.exitCode, 7);
      await launcher.kill('tty-exec', 'SIGKILL');
      await init.exited;
    });

    it("writes a batch job's terminal output to its stdout.log", async () => {
      const results = [];
      for await (const result of launcher.batch([
        { id: 'tty-job', args: ['/bin/sh', '-c', 'echo $((6*7)); tty; sleep 0.5; exit 2'], terminal: true },
      ])) {
        results.push(result);
      }
      assert.equal(results[0]?.exitCode, 2);
      const log = results[0]?.stdoutPath ?? '';
      for (let i = 0; i < 100 && !/pts/.test(readFileSync(log, 'utf8')); i++) await sleep(20);
      assert.match(readFileSync(log, 'utf8'), /^42\r\n\/dev\/pts\/\d+\r\n$/);
    });

    it('fails a terminal start the runtime refuses with its error, leaving no container and no socket', async () => {
      await assert.rejects(launcher.start({ id: 'tty-missing', args: ['/no/such/shell'], terminal: true }), {
        code: 'ERR_RUNTIME_FAILED',
        message: /\/no\/such\/shell/,
      });
      assert.ok(!runtimeContainers(launcher).includes('tty-missing'));
      assert.ok(!runDirs(launcher.stateDir, 'tty-missing').some((dir) => existsSync(join(dir, 'console.sock'))));
    });
  });
}
