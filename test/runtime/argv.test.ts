// The pure argv builders: exact arrays, flags in the order of DESIGN §5, the id always last.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkpointArgs,
  commandLine,
  createArgs,
  deleteArgs,
  execArgs,
  killArgs,
  listArgs,
  pauseArgs,
  restoreArgs,
  resumeArgs,
  runArgs,
  startArgs,
  stateArgs,
} from '../../src/runtime/argv.js';
import type { RuntimeInvocation } from '../../src/types.js';

const B = '/bundles/b';
const P = '/state/c1/init/pid';
const S = '/state/c1/init/console.sock';

describe('runArgs', () => {
  it('builds run -d with the bundle and pid file before the id', () => {
    assert.deepEqual(runArgs('c1', { bundle: B, pidFile: P }), ['run', '-d', '--bundle', B, '--pid-file', P, 'c1']);
  });

  it('adds the console socket, --no-pivot and --no-new-keyring in that order', () => {
    assert.deepEqual(runArgs('c1', { bundle: B, pidFile: P, consoleSocket: S, noPivot: true, noNewKeyring: true }), [
      'run',
      '-d',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--console-socket',
      S,
      '--no-pivot',
      '--no-new-keyring',
      'c1',
    ]);
  });

  it('leaves out flags whose options are false', () => {
    assert.deepEqual(runArgs('c1', { bundle: B, pidFile: P, noPivot: false, noNewKeyring: false }), [
      'run',
      '-d',
      '--bundle',
      B,
      '--pid-file',
      P,
      'c1',
    ]);
  });

  it('places extraArgs after its own flags and before the id', () => {
    assert.deepEqual(runArgs('c1', { bundle: B, pidFile: P, noPivot: true, extraArgs: ['--keep', '--x=1'] }), [
      'run',
      '-d',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--no-pivot',
      '--keep',
      '--x=1',
      'c1',
    ]);
  });

  it('passes ids and paths holding spaces as single arguments, never split', () => {
    const args = runArgs('a b', { bundle: '/with space', pidFile: P });
    assert.equal(args.at(-1), 'a b');
    assert.equal(args[3], '/with space');
  });
});

describe('createArgs and startArgs', () => {
  it('builds create without -d, with the same container flags as run', () => {
    assert.deepEqual(createArgs('c1', { bundle: B, pidFile: P, consoleSocket: S, noNewKeyring: true }), [
      'create',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--console-socket',
      S,
      '--no-new-keyring',
      'c1',
    ]);
  });

  it('places create extraArgs before the id', () => {
    assert.deepEqual(createArgs('c1', { bundle: B, pidFile: P, extraArgs: ['--preserve-fds', '2'] }), [
      'create',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--preserve-fds',
      '2',
      'c1',
    ]);
  });

  it('builds start with the id only', () => {
    assert.deepEqual(startArgs('c1'), ['start', 'c1']);
  });
});

describe('execArgs', () => {
  it('builds exec -d with the pid file and process file before the id', () => {
    assert.deepEqual(execArgs('c1', { pidFile: P, processFile: '/d/process.json' }), [
      'exec',
      '-d',
      '--pid-file',
      P,
      '--process',
      '/d/process.json',
      'c1',
    ]);
  });

  it('adds the console socket and then extraArgs before the id', () => {
    assert.deepEqual(execArgs('c1', { pidFile: P, processFile: '/d/process.json', consoleSocket: S, extraArgs: ['--tty'] }), [
      'exec',
      '-d',
      '--pid-file',
      P,
      '--process',
      '/d/process.json',
      '--console-socket',
      S,
      '--tty',
      'c1',
    ]);
  });
});

describe('checkpointArgs', () => {
  it('builds checkpoint with the image path before the id', () => {
    assert.deepEqual(checkpointArgs('c1', { imagePath: '/cp' }), ['checkpoint', '--image-path', '/cp', 'c1']);
  });

  it('adds the work path, --leave-running, the CRIU flags and then extraArgs', () => {
    const args = checkpointArgs('c1', {
      imagePath: '/cp',
      workPath: '/w',
      leaveRunning: true,
      tcpEstablished: true,
      extUnixSk: true,
      shellJob: true,
      fileLocks: true,
      extraArgs: ['--pre-dump'],
    });
    assert.deepEqual(args, [
      'checkpoint',
      '--image-path',
      '/cp',
      '--work-path',
      '/w',
      '--leave-running',
      '--tcp-established',
      '--ext-unix-sk',
      '--shell-job',
      '--file-locks',
      '--pre-dump',
      'c1',
    ]);
  });
});

describe('restoreArgs', () => {
  it('builds restore -d with bundle, pid file and image path before the id', () => {
    assert.deepEqual(restoreArgs('c1', { bundle: B, pidFile: P, imagePath: `${B}/checkpoints/one` }), [
      'restore',
      '-d',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--image-path',
      `${B}/checkpoints/one`,
      'c1',
    ]);
  });

  it('adds work path, console socket, CRIU flags, --no-pivot, then extraArgs, then the id', () => {
    const args = restoreArgs('c1', {
      bundle: B,
      pidFile: P,
      imagePath: '/cp',
      workPath: '/w',
      consoleSocket: S,
      shellJob: true,
      tcpEstablished: true,
      extUnixSk: true,
      fileLocks: true,
      noPivot: true,
      extraArgs: ['--lazy-pages'],
    });
    assert.deepEqual(args, [
      'restore',
      '-d',
      '--bundle',
      B,
      '--pid-file',
      P,
      '--image-path',
      '/cp',
      '--work-path',
      '/w',
      '--console-socket',
      S,
      '--tcp-established',
      '--ext-unix-sk',
      '--shell-job',
      '--file-locks',
      '--no-pivot',
      '--lazy-pages',
      'c1',
    ]);
  });

  it('uses the same CRIU flag spelling as checkpoint so that a pair agrees', () => {
    const flags = { shellJob: true, fileLocks: true };
    const cp = checkpointArgs('c1', { imagePath: '/cp', ...flags });
    const rs = restoreArgs('c1', { bundle: B, pidFile: P, imagePath: '/cp', ...flags });
    const criu = (args: string[]) => args.filter((a) => a === '--shell-job' || a === '--file-locks');
    assert.deepEqual(criu(cp), criu(rs));
    assert.deepEqual(criu(cp), ['--shell-job', '--file-locks']);
  });
});

describe('killArgs', () => {
  it('builds kill with the id and then the signal', () => {
    assert.deepEqual(killArgs('c1', 'SIGTERM'), ['kill', 'c1', 'SIGTERM']);
  });

  it('puts --all before the positional arguments, where runc and crun parse flags', () => {
    assert.deepEqual(killArgs('c1', 'KILL', { all: true }), ['kill', '--all', 'c1', 'KILL']);
  });

  it('leaves out --all when all is false', () => {
    assert.deepEqual(killArgs('c1', '9', { all: false }), ['kill', 'c1', '9']);
  });
});

describe('deleteArgs', () => {
  it('builds delete with the id only', () => {
    assert.deepEqual(deleteArgs('c1'), ['delete', 'c1']);
  });

  it('puts --force before the id', () => {
    assert.deepEqual(deleteArgs('c1', { force: true }), ['delete', '--force', 'c1']);
  });
});

describe('state, list, pause and resume', () => {
  it('builds state with the id', () => {
    assert.deepEqual(stateArgs('c1'), ['state', 'c1']);
  });

  it('builds list in JSON format', () => {
    assert.deepEqual(listArgs(), ['list', '--format', 'json']);
  });

  it('builds pause and resume with the id', () => {
    assert.deepEqual(pauseArgs('c1'), ['pause', 'c1']);
    assert.deepEqual(resumeArgs('c1'), ['resume', 'c1']);
  });
});

describe('commandLine', () => {
  const runtime: RuntimeInvocation = {
    file: '/usr/bin/unshare',
    prefix: ['-m', '--propagation', 'private', '/usr/bin/crun'],
    root: '/state/runtime/crun',
    extraGlobalArgs: ['--systemd-cgroup', '--debug'],
  };

  it('puts the prefix, then salvo global flags, then extra global args, then the verb', () => {
    const line = commandLine(runtime, '/state/c1/init/log.json', ['state', 'c1']);
    assert.deepEqual(line, {
      file: '/usr/bin/unshare',
      args: [
        '-m',
        '--propagation',
        'private',
        '/usr/bin/crun',
        '--root',
        '/state/runtime/crun',
        '--log',
        '/state/c1/init/log.json',
        '--log-format',
        'json',
        '--systemd-cgroup',
        '--debug',
        'state',
        'c1',
      ],
    });
  });

  it('runs the runtime directly when there is no prefix and no extra global args', () => {
    const plain: RuntimeInvocation = { file: '/usr/sbin/runc', prefix: [], root: '/r', extraGlobalArgs: [] };
    assert.deepEqual(commandLine(plain, '/l.json', deleteArgs('c1', { force: true })), {
      file: '/usr/sbin/runc',
      args: ['--root', '/r', '--log', '/l.json', '--log-format', 'json', 'delete', '--force', 'c1'],
    });
  });

  it('does not mutate the invocation or the verb args', () => {
    const verb = ['start', 'c1'];
    const line = commandLine(runtime, '/l.json', verb);
    line.args.push('extra');
    assert.deepEqual(verb, ['start', 'c1']);
    assert.equal(runtime.prefix.length, 4);
    assert.equal(runtime.extraGlobalArgs.length, 2);
  });
});
