// The docker-familiar flags of `salvo run` and the same fields in `salvo batch` jobs, through
// the real CLI on real runc and crun, with the shared busybox rootfs left unchanged.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { JobResult } from '../../src/index.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RUNC = RUNTIMES.includes('runc') ? 'runc' : (RUNTIMES[0] ?? 'runc');

function salvo(
  stateDir: string,
  args: string[],
  options: { input?: string; runtime?: string; env?: Record<string, string> } = {},
): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: options.runtime ?? RUNC, NO_COLOR: '1', ...options.env },
    input: options.input ?? '',
    timeout: 120_000,
  }) as ResultPromise<{ reject: false }>;
}

/** A host directory with one file, to mount as a volume. */
function checkout(): string {
  const dir = join(tempDir('flg-src-'), 'checkout');
  mkdirSync(dir);
  writeFileSync(join(dir, 'README'), 'from the host\n');
  return dir;
}

// The container's own cgroup limits, read through a read-only volume of the host's cgroupfs.
const READ_LIMITS =
  'cg() { grep -E "^[0-9]+:([^:]*,)?$1(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3; }; ' +
  'cat /sys/fs/cgroup/memory$(cg memory)/memory.limit_in_bytes /sys/fs/cgroup/pids$(cg pids)/pids.max /sys/fs/cgroup/cpu$(cg cpu)/cpu.cfs_quota_us';

describe('salvo run with docker-familiar flags', { timeout: 300_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`mounts a volume read-only, runs as a named user in -w with a hostname (${runtime})`, async () => {
      const src = checkout();
      const state = join(tempDir(), 'state');
      const script = 'id; pwd; hostname; echo $HOME; cat README; touch new 2>/dev/null || echo read-only';
      const result = await salvo(
        state,
        [
          'run',
          '--name',
          `flg-vol-${runtime}`,
          '-v',
          `${src}:/src:ro`,
          '-w',
          '/src',
          '-u',
          'nobody',
          '--hostname',
          'flg-ci',
          '--',
          '/bin/sh',
          '-c',
          script,
        ],
        { runtime },
      );
      assert.equal(result.exitCode, 0, result.stderr);
      assert.deepEqual(result.stdout.split('\n'), ['uid=65534(nobody) gid=65534(nogroup)', '/src', 'flg-ci', '/', 'from the host', 'read-only']);
      assert.ok(!existsSync(join(src, 'new')));
    });

    it(`gives CAP_CHOWN with --cap-add and sets memory, CPU and pid limits (${runtime})`, async () => {
      const state = join(tempDir(), 'state');
      const chown = ['/bin/sh', '-c', 'touch /tmp/f && chown 65534 /tmp/f && stat -c %u /tmp/f'];
      const denied = await salvo(state, ['run', '--', ...chown], { runtime });
      assert.equal(denied.exitCode, 1);
      assert.match(denied.stderr, /Operation not permitted/);
      const granted = await salvo(state, ['run', '--cap-add', 'CHOWN', '--', ...chown], { runtime });
      assert.equal(granted.exitCode, 0, granted.stderr);
      assert.equal(granted.stdout, '65534');
      const limits = ['--memory', '64m', '--cpus', '0.5', '--pids-limit', '20', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro'];
      const limited = await salvo(state, ['run', ...limits, '--', '/bin/sh', '-c', READ_LIMITS], { runtime });
      assert.equal(limited.exitCode, 0, limited.stderr);
      assert.deepEqual(limited.stdout.split('\n'), [String(64 * 1024 * 1024), '20', '50000']);
    });

    it(`shares the host's network with --network host and has only lo without (${runtime})`, async () => {
      const state = join(tempDir(), 'state');
      const count = ['/bin/sh', '-c', 'tail -n +3 /proc/net/dev | wc -l'];
      const own = await salvo(state, ['run', '--', ...count], { runtime });
      const host = await salvo(state, ['run', '--network', 'host', '--', ...count], { runtime });
      const hostInterfaces = readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length - 2;
      assert.equal(own.stdout, '1', own.stderr);
      assert.equal(host.stdout, String(hostInterfaces), host.stderr);
    });
  }

  it('reads stdin with -i and passes -e KEY and --env-file values from the host', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const piped = await salvo(state, ['run', '-i', '--', 'cat'], { input: 'x\n' });
    assert.equal(piped.stdout, 'x');
    const closed = await salvo(state, ['run', '--', 'cat'], { input: 'x\n' });
    assert.equal(closed.stdout, '', 'without -i stdin is /dev/null');
    const file = join(dir, 'ci.env');
    writeFileSync(file, '# comment\nMODE=ci\nFROM_FILE\n');
    const env = await salvo(
      state,
      ['run', '--env-file', file, '-e', 'FLG_TOKEN', '-e', 'MODE=override', '--', '/bin/sh', '-c', 'echo $MODE $FLG_TOKEN $FROM_FILE'],
      {
        env: { FLG_TOKEN: 'secret', FROM_FILE: 'f' },
      },
    );
    assert.equal(env.stdout, 'override secret f', env.stderr);
  });

  it('runs a plain `runc spec` bundle (terminal: true) without -t', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const warm = await salvo(state, ['run', '--', '/bin/true']);
    assert.equal(warm.exitCode, 0);
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle);
    execFileSync('runc', ['spec'], { cwd: bundle });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.equal(config.process.terminal, true);
    config.root.path = join(state, 'bundles', 'busybox', 'rootfs'); // runc refuses a symlinked rootfs
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const result = await salvo(state, ['run', '--bundle', bundle, '--', '/bin/echo', 'no tty needed']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'no tty needed');
  });

  it("names salvo's equivalent of a docker flag and refuses bad values naming the field", async () => {
    const state = join(tempDir(), 'state');
    const rm = await salvo(state, ['run', '--rm', '--', '/bin/true']);
    assert.equal(rm.exitCode, 2);
    assert.match(rm.stderr, /unknown option '--rm'\nsalvo: --rm: salvo deletes every container when it exits/);
    const user = await salvo(state, ['run', '-u', 'flg-nobody-here', '--', '/bin/true']);
    assert.equal(user.exitCode, 2);
    assert.match(user.stderr, /user "flg-nobody-here" is not in the rootfs's \/etc\/passwd .*\(ERR_INVALID_SPEC\)/);
    const memory = await salvo(state, ['run', '--memory', 'lots', '--', '/bin/true']);
    assert.equal(memory.exitCode, 2);
    assert.match(memory.stderr, /memory must be a size/);
  });

  it('leaves the shared busybox rootfs unchanged: a missing cwd or mount point is refused, /tmp and volumes work', async () => {
    const state = join(tempDir(), 'state');
    const warm = await salvo(state, ['run', '--', '/bin/true']);
    assert.equal(warm.exitCode, 0);
    const rootfs = join(state, 'bundles', 'busybox', 'rootfs');
    const before = readdirSync(rootfs).sort();
    const cwd = await salvo(state, ['run', '--cwd', '/flg-nonexistent', '--', '/bin/pwd']);
    assert.equal(cwd.exitCode, 2);
    assert.match(cwd.stderr, /cwd \/flg-nonexistent does not exist in the read-only rootfs/);
    const mount = await salvo(state, ['run', '-v', `${checkout()}:/flg-new`, '--', '/bin/true']);
    assert.equal(mount.exitCode, 2);
    assert.match(mount.stderr, /the mount point \/flg-new does not exist/);
    const underTmp = await salvo(state, ['run', '-w', '/tmp/flg/build', '--', '/bin/pwd']);
    assert.equal(underTmp.stdout, '/tmp/flg/build', underTmp.stderr);
    const underVolume = await salvo(state, ['run', '--tmpfs', '/work', '-w', '/work/flg', '--', '/bin/pwd']);
    assert.equal(underVolume.stdout, '/work/flg', underVolume.stderr);
    assert.deepEqual(readdirSync(rootfs).sort(), before);
    assert.deepEqual(readdirSync(join(rootfs, 'work')), []);
  });
});

describe('salvo batch jobs with docker-familiar fields', { timeout: 300_000 }, () => {
  it('applies volumes, user, capAdd, network and limits per job', async () => {
    const dir = tempDir();
    const src = checkout();
    const jobs = [
      { id: 'flg-job-vol', args: ['/bin/sh', '-c', 'cat /src/README; id -u'], volumes: [`${src}:/src:ro`], user: 'nobody' },
      { id: 'flg-job-chown', args: ['/bin/sh', '-c', 'touch /tmp/f && chown 1 /tmp/f'], capAdd: ['CHOWN'], pidsLimit: 50, memory: '32m' },
      { id: 'flg-job-nochown', args: ['/bin/sh', '-c', 'touch /tmp/f && chown 1 /tmp/f'], network: 'host' },
    ];
    const file = join(dir, 'jobs.jsonl');
    writeFileSync(file, `${jobs.map((job) => JSON.stringify(job)).join('\n')}\n`);
    const result = await salvo(join(dir, 'state'), ['batch', file, '--json', '--no-progress']);
    const document = JSON.parse(result.stdout) as { jobs: JobResult[] };
    assert.deepEqual(
      document.jobs.map((job) => [job.id, job.state, job.exitCode]),
      [
        ['flg-job-vol', 'exited', 0],
        ['flg-job-chown', 'exited', 0],
        ['flg-job-nochown', 'exited', 1],
      ],
    );
    const logs = await salvo(join(dir, 'state'), ['logs', 'flg-job-vol']);
    assert.equal(logs.stdout, 'from the host\n65534'.trim());
  });

  it('stops a batch before anything starts when a job field is wrong, naming the line and field', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.jsonl');
    writeFileSync(file, `${JSON.stringify({ args: ['/bin/true'] })}\n${JSON.stringify({ args: ['/bin/true'], volumes: ['cache:/src'] })}\n`);
    const result = await salvo(join(dir, 'state'), ['batch', file]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /line 2: volumes\[0\] must be a host path/);
  });
});

describe('exit statuses as docker gives them, and a state directory that cannot be used', { timeout: 300_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`exits 127 for a command not found and 126 for one that cannot be executed (${runtime})`, async () => {
      const state = join(tempDir(), 'state');
      const missing = await salvo(state, ['run', '--', '/flg/no/such'], { runtime });
      assert.equal(missing.exitCode, 127, missing.stderr);
      const notInPath = await salvo(state, ['run', '--', 'flg-no-such-command'], { runtime });
      assert.equal(notInPath.exitCode, 127, notInPath.stderr);
      const notExecutable = await salvo(state, ['run', '--', '/etc/passwd'], { runtime });
      assert.equal(notExecutable.exitCode, 126, notExecutable.stderr);
      const code = join(tempDir(), 'code');
      await salvo(state, ['run', '--exit-code-file', code, '--', '/flg/no/such'], { runtime });
      assert.equal(readFileSync(code, 'utf8'), '127\n');
    });
  }

  it('refuses an unknown signal name with exit 2 before any runtime runs', async () => {
    const state = join(tempDir(), 'state');
    const result = await salvo(state, ['kill', 'flg-any', 'NOPE']);
    assert.equal(result.exitCode, 2);
    assert.equal(result.stderr, 'salvo: signal must be a name like SIGTERM or a number, got "NOPE" (ERR_INVALID_SPEC)');
  });

  it('says in one line with ERR_STATE_DIR and exit 3 when the state directory or log file cannot be used', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const cases: [string[], RegExp][] = [
      [
        ['--state-dir', '/proc/flg-nope', 'run', '--', '/bin/true'],
        /^salvo: cannot (use|create) state directory \/proc\/flg-nope: cannot create \/proc\/flg-nope: ENOENT/,
      ],
      [['--state-dir', file, 'ps'], /is a file, not a directory/],
      [['--state-dir', join(file, 'sub'), 'run', '--', '/bin/true'], /is a file, not a directory/],
      [
        ['--state-dir', join(dir, 'state'), '--log-file', join(dir, 'missing', 'salvo.log'), 'ps'],
        /--log-file .*: its directory .*missing does not exist/,
      ],
      [['--state-dir', join(dir, 'with-file'), 'run', '--', '/bin/true'], /with-file\/containers is a file, not a directory/],
    ];
    mkdirSync(join(dir, 'with-file'), { mode: 0o700 });
    writeFileSync(join(dir, 'with-file', 'containers'), '');
    for (const [args, message] of cases) {
      const result = await salvo(join(dir, 'unused'), args);
      assert.equal(result.exitCode, 3, args.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /\(ERR_STATE_DIR\)$/);
      assert.equal(result.stderr.split('\n').length, 1, 'one line');
    }
  });
});

describe('salvo batch --concurrency', { timeout: 300_000 }, () => {
  it('means jobs running at once; --starts-in-flight is the runtime starts', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.jsonl');
    writeFileSync(file, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `flg-conc-${i}`, args: ['/bin/sleep', '0.3'] })).join('\n'));
    const result = await salvo(join(dir, 'state'), ['batch', file, '--concurrency', '2', '--starts-in-flight', '4', '--ndjson']);
    assert.equal(result.exitCode, 0, result.stderr);
    let alive = 0;
    let most = 0;
    for (const line of result.stdout.split('\n')) {
      const event = (JSON.parse(line) as { event: string }).event;
      if (event === 'started') alive++;
      if (event === 'finished') alive--;
      most = Math.max(most, alive);
    }
    assert.ok(most >= 1 && most <= 2, `at most two jobs ran at once (${most})`);
    const both = await salvo(join(dir, 'state'), ['batch', file, '--concurrency', '2', '--max-running', '3']);
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /--concurrency and --max-running name the same thing/);
  });
});

describe('salvo run output', { timeout: 120_000 }, () => {
  it('streams the output and keeps it in the record for salvo logs', async () => {
    const state = join(tempDir(), 'state');
    const result = await salvo(state, ['run', '--name', 'flg-kept', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([result.exitCode, result.stdout, result.stderr], [3, 'out', 'err']);
    const logs = await salvo(state, ['logs', 'flg-kept']);
    assert.deepEqual([logs.exitCode, logs.stdout, logs.stderr], [0, 'out', 'err']);
  });
});

describe('salvo batch job lines', { timeout: 120_000 }, () => {
  it('say the configured timeout, how long the stop took and the wall time, on stdout', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.jsonl');
    const jobs = [
      { id: 'flg-slow', args: ['/bin/sleep', '30'], timeoutMs: 300 },
      { id: 'flg-quick', args: ['/bin/true'] },
    ];
    writeFileSync(file, jobs.map((job) => JSON.stringify(job)).join('\n'));
    const result = await salvo(join(dir, 'state'), ['batch', file, '--grace', '1s']);
    assert.equal(result.exitCode, 1);
    assert.match(result.stdout, /^timeout {2}flg-slow: stopped after its timeout of 300ms \(the stop took \d+(\.\d+)?m?s\), exit 143 in \d/m);
    assert.match(result.stdout, /^ok {7}flg-quick in \d/m);
  });
});
