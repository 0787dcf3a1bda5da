// `salvo exec`, `salvo run -t` and `salvo ps` with exec'd processes: the real binary, real runtimes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { Launcher } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, removeTempDirs, sleep, tempDir, zombieChildren } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function salvo(stateDir: string, args: string[], input?: string): ResultPromise<{ reject: false }> {
  // SALVO_RUNTIME stays runc: `salvo exec` must use the runtime that started the container.
  return execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: 'runc', NO_COLOR: '1' },
    input,
    timeout: 120_000,
  }) as ResultPromise<{ reject: false }>;
}

/** Runs a shell command line on a fresh pty (util-linux script), as a user at a terminal would. */
function onTerminal(stateDir: string, commandLine: string, runtime = 'runc'): ResultPromise<{ reject: false }> {
  return execa('script', ['-qec', commandLine, '/dev/null'], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: runtime, NO_COLOR: '1', SALVO: `${process.execPath} ${MAIN}` },
    timeout: 120_000,
  }) as ResultPromise<{ reject: false }>;
}

const hasScript = ((): boolean => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const needsScript = hasScript ? false : 'needs script(1) from util-linux to give salvo a terminal';

/** A state directory with one container started detached through its serving launcher. */
async function detached(runtime: string, id: string): Promise<string> {
  const stateDir = join(tempDir(), 'state');
  const started = await salvo(stateDir, ['--runtime', runtime, 'run', '-d', '--id', id, '--', '/bin/sleep', '120']);
  assert.equal(started.exitCode, 0, started.stderr);
  return stateDir;
}

/** Kills it through the serving launcher (its parent, which reaps it) and stops that server. */
async function stopDetached(stateDir: string, runtime: string, id: string): Promise<void> {
  await salvo(stateDir, ['--runtime', runtime, 'kill', id, 'KILL', '--all']);
  await salvo(stateDir, ['wait', id]);
  await salvo(stateDir, ['serve', '--stop']);
}

function isNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node';
  } catch {
    return false;
  }
}

function records(stateDir: string, id: string): ReturnType<Store['list']> {
  const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
  assert.ok(store !== null);
  try {
    return store.list({ id });
  } finally {
    store.close();
  }
}

describe('salvo exec', { timeout: 300_000 }, () => {
  after(async () => {
    await sleep(200);
    // Servers that the commands started detached are re-parented here (this process is a
    // subreaper since its own Launcher.open) and end as zombies nobody here reaps: not salvo's.
    const zombies = zombieChildren().filter((pid) => !isNode(pid));
    assert.deepEqual(
      zombies.map((pid) => `${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`),
      [],
    );
  });

  for (const runtime of RUNTIMES) {
    it(`runs a command in a running container, streams its output and exits with its code (${runtime})`, async () => {
      const state = await detached(runtime, 'target');
      try {
        const result = await salvo(state, ['exec', '--env', 'WHO=cli', 'target', '--', '/bin/sh', '-c', 'echo "out $WHO"; echo err >&2; exit 5']);
        assert.equal(result.exitCode, 5, result.stderr);
        assert.equal(result.stdout, 'out cli');
        assert.equal(result.stderr, 'err');
        const exec = records(state, 'target').find((r) => r.execId !== 'init');
        assert.deepEqual([exec?.execId, exec?.state, exec?.exitCode], ['exec-1', 'exited', 5]);
        const ps = await salvo(state, ['ps', '--all']);
        assert.match(ps.stdout, /^target\s+init\s+running\s/m);
        assert.match(ps.stdout, /^\s+└ target\s+exec-1\s+exited\s+\d+\s+5\s/m);
        const missing = await salvo(state, ['exec', 'target', '--', '/no/such/tool']);
        assert.equal(missing.exitCode, 127, 'command not found, as docker says');
        assert.match(missing.stderr, /^salvo: exec in container target did not start: .*\/no\/such\/tool/);
      } finally {
        await stopDetached(state, runtime, 'target');
      }
    });
  }

  it('answers an unknown or stopped container with one line and exit status 2', async () => {
    const state = join(tempDir(), 'state');
    const launcher = await Launcher.open({ stateDir: state, runtime: 'runc' });
    await (
      await launcher.start({ id: 'done', args: ['/bin/true'] })
    ).exited;
    await launcher.close();
    const stopped = await salvo(state, ['exec', 'done', '--', '/bin/true']);
    assert.equal(stopped.exitCode, 2);
    assert.equal(stopped.stderr, 'salvo: container done is not running (exited) (ERR_CONTAINER_STOPPED)');
    const unknown = await salvo(state, ['exec', 'nobody', '--', '/bin/true']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /^salvo: no container nobody( in .*)? \(ERR_NOT_FOUND\)$/);
    await salvo(state, ['serve', '--stop']);
  });

  it('refuses with exit status 3 while another launcher holds the state directory', async () => {
    const state = join(tempDir(), 'state');
    const launcher = await Launcher.open({ stateDir: state, runtime: 'runc' });
    try {
      const init = await launcher.start({ id: 'held', args: ['/bin/sleep', '60'] });
      const result = await salvo(state, ['exec', 'held', '--', '/bin/true']);
      assert.equal(result.exitCode, 3);
      assert.match(result.stderr, /ERR_STATE_LOCKED/);
      assert.equal(result.stderr.trim().split('\n').length, 1);
      await launcher.kill('held', 'SIGKILL');
      await init.exited;
    } finally {
      await launcher.close();
    }
  });

  it('attaches the terminal with -t: the window size goes in, SIGWINCH resizes, the tty is restored', { skip: needsScript }, async () => {
    const state = await detached('runc', 'tty-target');
    try {
      const result = await onTerminal(
        state,
        'stty rows 40 cols 100; before=$(stty -g); ' +
          '$SALVO exec -t tty-target -- /bin/sh -c \'stty size; touch /tmp/first; i=0; until [ "$(stty size)" = "30 90" ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done; stty size; exit 4\' & pid=$!; ' +
          // Resize once it has printed its first size (its /tmp/first, seen through the init's root); it then
          // prints the new size as soon as the resize arrives (a minute at most): no race with the machine's speed.
          `cpid=$(cat ${join(state, 'containers', 'tty-target', 'init', 'pid')}); until [ -e /proc/$cpid/root/tmp/first ]; do sleep 0.1; done; ` +
          'stty rows 30 cols 90; kill -WINCH $pid; wait $pid; echo "code=$?"; ' +
          '[ "$before" = "$(stty -g)" ] && echo restored',
      );
      const lines = result.stdout.split(/\r?\n/).map((line) => line.trim());
      assert.deepEqual(
        lines.filter((line) => /^\d+ \d+$/.test(line)),
        ['40 100', '30 90'],
        result.stdout,
      );
      assert.ok(lines.includes('code=4'), result.stdout);
      assert.ok(lines.includes('restored'), result.stdout);
    } finally {
      await stopDetached(state, 'runc', 'tty-target');
    }
  });
});

describe('salvo run -t', { timeout: 300_000 }, () => {
  it('runs the container on a terminal of the same size, in raw mode, and restores the tty afterwards', { skip: needsScript }, async () => {
    const state = join(tempDir(), 'state');
    const result = await onTerminal(
      state,
      'stty rows 33 cols 99; before=$(stty -g); ' +
        '$SALVO run -t -- /bin/sh -c \'stty size; tty; exit 6\'; echo "code=$?"; ' +
        '[ "$before" = "$(stty -g)" ] && echo restored',
    );
    const lines = result.stdout.split(/\r?\n/).map((line) => line.trim());
    assert.ok(lines.includes('33 99'), result.stdout);
    assert.ok(
      lines.some((line) => /^\/dev\/pts\/\d+$/.test(line)),
      result.stdout,
    );
    assert.ok(lines.includes('code=6'), result.stdout);
    assert.ok(lines.includes('restored'), result.stdout);
    await salvo(state, ['serve', '--stop']);
  });

  it('feeds piped input to the terminal and ends it with end-of-file', async () => {
    const state = join(tempDir(), 'state');
    const result = await salvo(state, ['run', '-t', '--', '/bin/sh'], 'echo $((6*7))\nexit 3\n');
    assert.equal(result.exitCode, 3);
    assert.match(result.stdout, /^42\r?$/m);
    await salvo(state, ['serve', '--stop']);
  });

  for (const runtime of RUNTIMES) {
    it(
      `takes its terminal from the serving launcher's runtime on its own socket while another run goes on beside it (${runtime})`,
      { skip: needsScript },
      async () => {
        const state = await detached(runtime, 'tty-bg');
        const shared = tempDir();
        try {
          // The terminal's container waits for the side run to have ended: both are in flight at once.
          const result = await onTerminal(
            state,
            `$SALVO run -t --id tty-fg -v ${shared}:/mnt -- /bin/sh -c 'tty; touch /mnt/up; i=0; ` +
              "until [ -e /mnt/go ] || [ $i -ge 1200 ]; do sleep 0.1; i=$((i+1)); done; [ -e /mnt/go ] && echo go-seen; exit 6' & pid=$!; " +
              `until [ -e ${shared}/up ] || ! kill -0 $pid 2>/dev/null; do sleep 0.1; done; ` +
              '$SALVO run --id tty-side -- /bin/sh -c \'echo side-out; exit 3\'; echo "side=$?"; ' +
              `touch ${shared}/go; wait $pid; echo "code=$?"`,
            runtime,
          );
          const lines = result.stdout.split(/\r?\n/).map((line) => line.trim());
          assert.ok(
            lines.some((line) => /^\/dev\/pts\/\d+$/.test(line)),
            result.stdout,
          );
          assert.ok(lines.includes('side-out') && lines.includes('side=3'), result.stdout);
          assert.ok(lines.includes('go-seen'), result.stdout);
          assert.ok(lines.includes('code=6'), result.stdout);
          // The server that the detached container started ran both and recorded their exits.
          const ended = Object.fromEntries(['tty-fg', 'tty-side'].map((id) => [id, records(state, id)[0]?.exitCode]));
          assert.deepEqual(ended, { 'tty-fg': 6, 'tty-side': 3 });
        } finally {
          await stopDetached(state, runtime, 'tty-bg');
        }
      },
    );
  }
});

describe("salvo ps with exec'd processes", { timeout: 120_000 }, () => {
  it('lists each running exec under its container, beside the launcher that runs them', async () => {
    const state = join(tempDir(), 'state');
    const launcher = await Launcher.open({ stateDir: state, runtime: 'runc' });
    try {
      const init = await launcher.start({ id: 'box', args: ['/bin/sleep', '60'] });
      const debug = await launcher.exec('box', { args: ['/bin/sleep', '60'], execId: 'debug' });
      await (
        await launcher.exec('box', { args: ['/bin/true'], execId: 'quick' })
      ).exited;
      const other = await launcher.start({ id: 'another', args: ['/bin/sleep', '60'] });
      const ps = await salvo(state, ['ps']);
      assert.equal(ps.exitCode, 0, ps.stderr);
      const rows = ps.stdout
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/).slice(0, 5).join(' '));
      // Containers by id, each followed by its running exec'd processes; finished ones only with --all.
      assert.deepEqual(rows, [`another init running ${other.pid} -`, `box init running ${init.pid} -`, `└ box debug running ${debug.pid}`]);
      const json = JSON.parse((await salvo(state, ['ps', '--json'])).stdout) as { id: string; execId: string }[];
      assert.deepEqual(json.map((r) => `${r.id}/${r.execId}`).sort(), ['another/init', 'box/debug', 'box/init']);
      const all = await salvo(state, ['ps', '--all']);
      assert.match(all.stdout, /└ box\s+quick\s+exited\s+\d+\s+0\s/);
      await launcher.kill('box', 'SIGKILL', { all: true });
      await launcher.kill('another', 'SIGKILL');
      await Promise.all([init.exited, debug.exited, other.exited]);
    } finally {
      await launcher.close();
    }
  });
});
