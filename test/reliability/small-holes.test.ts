// Issue 14's smaller holes: an argument or env entry longer than Linux takes is refused before
// anything exists, and a `containers/<id>` that is a symlink is refused, never followed.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SalvoError } from '../../src/index.js';
import { RUNTIMES, derivedBundle, openLauncher, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const refused = (code: string, pattern: RegExp) => (error: unknown) =>
  error instanceof SalvoError && error.code === code && pattern.test(error.message);

for (const runtime of RUNTIMES) {
  describe(`small holes (${runtime})`, { timeout: 300_000 }, () => {
    it('refuses an env value or argument of 128 KiB or more with ERR_INVALID_SPEC before any record exists', async () => {
      const launcher = await openLauncher(runtime);
      try {
        const big = 'x'.repeat(200 * 1024);
        await assert.rejects(
          launcher.start({ id: 'iso-big-env', args: ['/bin/true'], env: { BIG: big } }),
          refused('ERR_INVALID_SPEC', /env\[0\].*204804 bytes.*MAX_ARG_STRLEN/),
        );
        await assert.rejects(
          launcher.start({ id: 'iso-big-arg', args: ['/bin/echo', big] }),
          refused('ERR_INVALID_SPEC', /args\[1\].*MAX_ARG_STRLEN/),
        );
        assert.equal(launcher.get('iso-big-env'), undefined, 'no record');
        assert.equal(launcher.get('iso-big-arg'), undefined);
        // Just under the limit still runs.
        const proc = await launcher.start({
          id: 'iso-big-ok',
          args: ['/bin/sh', '-c', 'test ${#BIG} -gt 100000'],
          env: { BIG: 'y'.repeat(131_000) },
        });
        assert.equal((await proc.exited).exitCode, 0);
      } finally {
        await launcher.close();
      }
    });

    it('refuses a containers/<id> that is a symlink with ERR_STATE_DIR and leaves its target alone', async () => {
      const launcher = await openLauncher(runtime);
      try {
        const target = join(tempDir(), 'elsewhere');
        mkdirSync(join(target, 'init'), { recursive: true });
        writeFileSync(join(target, 'init', 'precious'), 'keep me');
        symlinkSync(target, join(launcher.stateDir, 'containers', 'iso-link'));
        await assert.rejects(launcher.start({ id: 'iso-link', args: ['/bin/true'] }), refused('ERR_STATE_DIR', /iso-link is a symbolic link/));
        await assert.rejects(launcher.start({ id: 'iso-link', args: ['/bin/true'], stdio: 'fifo' }), refused('ERR_STATE_DIR', /symbolic link/));
        assert.ok(existsSync(join(target, 'init', 'precious')), 'nothing was removed through the link');
      } finally {
        await launcher.close();
      }
    });

    it("refuses a bundle with OCI hooks under bundleHooks: 'refuse', before the hook runs on the host", async () => {
      const marker = join(tempDir(), 'hook-ran');
      const allowing = await openLauncher(runtime);
      const refusing = await openLauncher(runtime, { bundleHooks: 'refuse' });
      try {
        const bundle = await derivedBundle(allowing, (config) => {
          config.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] };
        });
        await assert.rejects(
          refusing.start({ id: 'iso-hooks', bundle, args: ['/bin/true'] }),
          refused('ERR_BUNDLE_INVALID', /has OCI hooks \(prestart\)/),
        );
        assert.ok(!existsSync(marker), 'the hook did not run');
        const proc = await allowing.start({ id: 'iso-hooks', bundle, args: ['/bin/true'] });
        assert.equal((await proc.exited).exitCode, 0);
        assert.ok(existsSync(marker), 'by default a hook runs, on the host: what the docs warn about');
      } finally {
        await refusing.close();
        await allowing.close();
      }
    });
  });
}

describe('a state directory this user cannot read', () => {
  it('makes salvo ps, logs and inspect exit 3 with ERR_STATE_DIR, not an empty table or a raw EACCES', async (t) => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const asNobody = (args: string[]) =>
      execa('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, main, ...args], { reject: false });
    // The test runs salvo as another user: a checkout under a directory only root can enter
    // (a clone in a 0700 mktemp dir) cannot be run by that user at all, whatever salvo does.
    const probe = await asNobody(['--version']);
    if (probe.exitCode !== 0) {
      t.skip(`user 65534 cannot run this checkout's salvo (${main}): ${probe.stderr.split('\n')[0] ?? ''}`);
      return;
    }
    const parent = tempDir();
    chmodSync(parent, 0o755); // nobody reaches the state directory (0700, root's) but not into it
    const stateDir = join(parent, 'state');
    const launcher = await openLauncher(RUNTIMES[0] ?? 'runc', { stateDir });
    await (
      await launcher.start({ id: 'iso-perm', args: ['/bin/true'] })
    ).exited;
    await launcher.close();
    for (const args of [['ps'], ['ps', '--json'], ['logs', 'iso-perm'], ['inspect', 'iso-perm']]) {
      for (const logFile of [[], ['--log-file', '-']]) {
        const result = await asNobody(['--state-dir', stateDir, ...logFile, ...args]);
        assert.equal(result.exitCode, 3, `${args.join(' ')} ${logFile.join(' ')}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr, /ERR_STATE_DIR/);
        assert.equal(result.stdout, '', 'no table');
      }
    }
  });
});
