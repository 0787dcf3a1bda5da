// The salvo CLI as users and CI runners call it: the real binary, real runtimes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { Store } from '../../src/store/store.js';
import type { JobResult } from '../../src/index.js';
import { findAll, parseXml } from '../xml.js';
import { RUNTIMES, removeTempDirs, sleep, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RUNC = RUNTIMES.includes('runc') ? 'runc' : (RUNTIMES[0] ?? 'runc');

function salvo(stateDir: string, args: string[], options: { input?: string } = {}): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: RUNC, NO_COLOR: '1' },
    input: options.input,
    timeout: 300_000,
  }) as ResultPromise<{ reject: false }>;
}

function readStore(stateDir: string): Store {
  const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
  assert.ok(store !== null, 'the store exists');
  return store;
}

/** Resolves once the store says the container runs (five minutes at most). */
async function untilRunning(stateDir: string, id: string): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const store = existsSync(join(stateDir, 'salvo.db')) ? Store.openReadOnly(join(stateDir, 'salvo.db')) : null;
    const state = store?.get(id)?.state;
    store?.close();
    if (state === 'running') return;
    if (waited > 300_000) assert.fail(`${id} never ran (${state})`);
    await sleep(50);
  }
}

describe('salvo run', { timeout: 300_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`prints the container's output and exits with its code (${runtime})`, async () => {
      const state = join(tempDir(), 'state');
      const result = await salvo(state, ['--runtime', runtime, 'run', '--', '/bin/sh', '-c', 'echo hi; exit 7']);
      assert.equal(result.stdout, 'hi');
      assert.equal(result.exitCode, 7);
    });
  }

  it('exits 137 when the container kills itself with SIGKILL', async () => {
    const result = await salvo(join(tempDir(), 'state'), ['run', '--', '/bin/sh', '-c', 'kill -9 $$']);
    assert.equal(result.exitCode, 137);
  });

  it('writes the real exit code to --exit-code-file and streams stderr', async () => {
    const dir = tempDir();
    const file = join(dir, 'code');
    const result = await salvo(join(dir, 'state'), [
      'run',
      '--exit-code-file',
      file,
      '--env',
      'WHO=ci',
      '--',
      '/bin/sh',
      '-c',
      'echo $WHO >&2; exit 4',
    ]);
    assert.equal(result.exitCode, 4);
    assert.equal(result.stderr, 'ci');
    assert.equal(readFileSync(file, 'utf8'), '4\n');
  });

  it('exits 124 after --timeout and 125 when the container does not start', async () => {
    const state = join(tempDir(), 'state');
    const timedOut = await salvo(state, ['run', '--timeout', '300ms', '--grace', '1s', '--', '/bin/sleep', '30']);
    assert.equal(timedOut.exitCode, 124);
    assert.match(timedOut.stderr, /ran longer than 300ms \(--timeout\) and was stopped in \d+(\.\d+)? ?m?s by SIGTERM \(exit 143\)/);
    const failed = await salvo(state, ['run', '--tmpfs', '/work:flg-bogus=1', '--', '/bin/true']);
    assert.equal(failed.exitCode, 125);
    assert.match(failed.stderr, /did not start: .*flg-bogus=1/);
  });

  it('stops the container on SIGTERM and exits with its code', async () => {
    const state = join(tempDir(), 'state');
    const child = salvo(state, ['run', '--id', 'stopped-by-term', '--', '/bin/sleep', '30']);
    // Once it runs (the serving launcher says so), salvo run has its handlers in place.
    while (!(await salvo(state, ['ps'])).stdout.includes('stopped-by-term')) await sleep(100);
    child.kill('SIGTERM');
    const result = await child;
    assert.equal(result.exitCode, 143);
    const store = readStore(state);
    try {
      assert.equal(store.get('stopped-by-term')?.signal, 'SIGTERM');
    } finally {
      store.close();
    }
  });
});

describe('salvo batch', { timeout: 600_000 }, () => {
  let dir: string;
  let brokenBundle: string;
  before(() => {
    dir = tempDir();
    brokenBundle = join(dir, 'broken-bundle');
    mkdirSync(brokenBundle);
    writeFileSync(
      join(brokenBundle, 'config.json'),
      JSON.stringify({ ociVersion: '1.0.2', root: { path: '/no/such/rootfs' }, process: { args: ['/bin/true'], cwd: '/' } }),
    );
  });

  it('reports 300 mixed jobs in JSON and JUnit that agree with the store, and exits 1', async () => {
    const state = join(dir, 'state-300');
    const lines: string[] = [];
    for (let i = 0; i < 297; i++) lines.push(JSON.stringify({ id: `job-${i}`, args: ['/bin/sh', '-c', `echo line-${i}; exit ${i % 5}`] }));
    lines.push(JSON.stringify({ id: 'job-broken', bundle: brokenBundle }));
    lines.push(JSON.stringify({ id: 'job-slow', args: ['/bin/sleep', '30'], timeoutMs: 500 }));
    lines.push(JSON.stringify({ id: 'job-missing', args: ['/no/such/tool'] }));
    const jobs = join(dir, 'jobs.jsonl');
    writeFileSync(jobs, `${lines.join('\n')}\n`);
    const junit = join(dir, 'report.xml');
    const result = await salvo(state, ['batch', jobs, '--starts-in-flight', '8', '--grace', '1s', '--json', '--junit', junit]);
    assert.equal(result.exitCode, 1, result.stderr);
    const document = JSON.parse(result.stdout) as { batchId: string; summary: Record<string, number>; jobs: JobResult[] };
    assert.equal(document.jobs.length, 300);
    assert.equal(document.summary.total, 300);
    assert.equal(document.summary.failed, 2);
    assert.equal(document.summary.timedOut, 1);

    const xml = parseXml(readFileSync(junit, 'utf8'));
    const cases = findAll(xml, 'testcase');
    assert.equal(cases.length, 300);
    const store = readStore(state);
    try {
      const records = new Map(store.list({ batchId: document.batchId }).map((r) => [r.id, r]));
      assert.equal(records.size, 300);
      for (const [i, job] of document.jobs.entries()) {
        const record = records.get(job.id);
        const testcase = cases[i];
        assert.equal(testcase?.attributes.name, job.id, 'JUnit lists the jobs in input order');
        assert.equal(record?.exitCode ?? null, job.exitCode, job.id);
        assert.equal(record?.signal ?? null, job.signal, job.id);
        const failure = findAll(testcase!, 'failure')[0];
        const error = findAll(testcase!, 'error')[0];
        if (job.state === 'exited' && job.exitCode === 0) assert.ok(failure === undefined && error === undefined, job.id);
        if (job.state === 'exited' && job.exitCode !== 0) assert.match(failure?.attributes.message ?? '', new RegExp(`exit code ${job.exitCode}`));
        if (job.state === 'failed') {
          assert.equal(record?.state, 'failed');
          assert.equal(error?.attributes.type, job.error?.code);
        }
        if (job.id.startsWith('job-') && /^job-\d+$/.test(job.id)) {
          const n = Number(job.id.slice(4));
          assert.equal(job.exitCode, n % 5);
          assert.match(findAll(testcase!, 'system-out')[0]?.text ?? '', new RegExp(`line-${n}`));
        }
      }
      assert.equal(records.get('job-slow')?.signal, 'SIGTERM');
      assert.match(records.get('job-broken')?.errorMessage ?? '', /rootfs|no such file/i);
    } finally {
      store.close();
    }
  });

  it('stops within seconds on SIGINT, deletes what it started, reports every job and exits 130', async () => {
    const state = join(dir, 'state-sigint');
    const jobs = join(dir, 'long.jsonl');
    writeFileSync(jobs, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `long-${i}`, args: ['/bin/sleep', '60'] })).join('\n'));
    const child = salvo(state, ['batch', jobs, '--starts-in-flight', '4', '--concurrency', '6', '--grace', '1s', '--ndjson']);
    await untilRunning(state, 'long-0');
    const signaledAt = Date.now();
    child.kill('SIGINT');
    const result = await child;
    assert.ok(Date.now() - signaledAt < 15_000, 'stopped within a few seconds');
    assert.equal(result.exitCode, 130, result.stderr);
    const finished = result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event: string } & JobResult)
      .filter((event) => event.event === 'finished');
    assert.equal(finished.length, 40, 'a result for every job');
    assert.ok(finished.every((r) => r.state === 'canceled'));
    const ran = finished.filter((r) => r.pid !== null);
    assert.ok(ran.length > 0);
    const store = readStore(state);
    try {
      for (const r of ran) assert.ok(store.get(r.id)?.state === 'exited', `${r.id} is final`);
    } finally {
      store.close();
    }
    // The serving launcher deletes each container in the runtime after its exit, in the background.
    const listed = async (): Promise<string> =>
      (await execa('runc', ['--root', join(state, 'runtime', 'runc'), 'list', '-q'], { reject: false })).stdout.trim();
    // Waits for the condition, not for a time: on a loaded machine the deletes take what they take.
    const deadline = Date.now() + 120_000;
    while ((await listed()) !== '' && Date.now() < deadline) await sleep(200);
    assert.equal(await listed(), '', 'no container left in the runtime');
  });

  it('streams results from a slow stdin as they finish', async () => {
    const state = join(dir, 'state-stream');
    // A serving launcher with its bundle built, so that starting one is not what the first job waits for.
    assert.equal((await salvo(state, ['run', '--', '/bin/true'])).exitCode, 0);
    const child = execa(process.execPath, [MAIN, 'batch', '-', '--ndjson'], {
      env: { SALVO_STATE_DIR: state, SALVO_RUNTIME: RUNC },
      reject: false,
      buffer: false,
    });
    const finishedAt: number[] = [];
    let fed = 0;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if ((JSON.parse(line) as { event: string }).event === 'finished') finishedAt.push(fed);
    });
    for (let i = 0; i < 10; i++) {
      child.stdin?.write(`${JSON.stringify({ id: `streamed-${i}`, args: ['/bin/true'] })}\n`);
      fed++;
      // The last line waits for a first result (a minute at most: then the assertion below fails).
      for (let waited = 0; i === 8 && finishedAt.length === 0 && waited < 60_000; waited += 50) await sleep(50);
    }
    child.stdin?.end();
    const result = await child;
    assert.equal(result.exitCode, 0);
    assert.equal(finishedAt.length, 10);
    assert.ok((finishedAt[0] ?? 10) < 10, 'the first result came before stdin was closed');
  });
});

describe('salvo with bad input', { timeout: 120_000 }, () => {
  const cases: [string, string[], RegExp, string?][] = [
    ['an unknown flag', ['batch', '--frobnicate', 'x'], /unknown option '--frobnicate'/],
    ['a missing bundle', ['run', '--bundle', '/no/such/bundle', '--', '/bin/true'], /bundle \/no\/such\/bundle does not exist/],
    ['invalid JSON on line 17', ['batch', 'JOBS'], /line 17: invalid JSON/],
    ['an unknown runtime binary', ['--runtime', '/no/such/runtime', 'run', '--', '/bin/true'], /runtime \/no\/such\/runtime is missing/],
    ['a missing jobs file', ['batch', '/no/such/jobs.jsonl'], /jobs file \/no\/such\/jobs.jsonl does not exist/],
    ['a bad duration', ['run', '--timeout', 'soon', '--', '/bin/true'], /--timeout must be a duration/],
  ];
  for (const [what, args, message] of cases) {
    it(`answers ${what} with one clear line and exit status 2`, async () => {
      const dir = tempDir();
      const jobs = join(dir, 'jobs.jsonl');
      const lines = Array.from({ length: 16 }, () => JSON.stringify({ args: ['/bin/true'] }));
      writeFileSync(jobs, `${[...lines, '{"args": ["/bin/true"'].join('\n')}\n`);
      const result = await salvo(
        join(dir, 'state'),
        args.map((a) => (a === 'JOBS' ? jobs : a)),
      );
      assert.equal(result.exitCode, 2, `${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it("prints the package's version for --version and -V, alone or after global options", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const state = join(tempDir(), 'state');
    for (const args of [['--version'], ['-V'], ['--log-level', 'warn', '--version']]) {
      const result = await salvo(state, args);
      assert.deepEqual([result.exitCode, result.stdout, result.stderr], [0, version, ''], args.join(' '));
    }
    assert.equal(existsSync(state), false, 'a version asked for makes no state directory');
  });

  it('shows a runnable example in --help of every command', async () => {
    for (const command of ['run', 'exec', 'batch', 'bench', 'ps', 'inspect', 'logs', 'kill', 'stop', 'wait', 'pause', 'resume', 'serve', 'gc']) {
      const result = await salvo(join(tempDir(), 'state'), [command, '--help']);
      assert.equal(result.exitCode, 0);
      assert.match(result.stdout, /Examples?:\n/, command);
      assert.match(result.stdout, /^ {2}\$ .*\bsalvo /m, command);
    }
  });
});

describe('salvo ps, inspect, logs, kill and gc', { timeout: 300_000 }, () => {
  it('show, follow, signal and clean up containers of a running batch', async () => {
    const state = join(tempDir(), 'state');
    const child = salvo(state, ['batch', '-', '--ndjson'], {
      input: `${JSON.stringify({ id: 'watched', args: ['/bin/sh', '-c', 'echo started; sleep 30'] })}\n`,
    });
    let ps = '';
    for (let i = 0; i < 100 && !ps.includes('running'); i++) {
      await sleep(100);
      ps = (await salvo(state, ['ps'])).stdout;
    }
    assert.match(ps, /watched\s+init\s+running/);
    const inspect = JSON.parse((await salvo(state, ['inspect', 'watched', '--json'])).stdout) as { records: { state: string }[] };
    assert.equal(inspect.records[0]?.state, 'running');
    const kill = await salvo(state, ['kill', 'watched', 'KILL']);
    assert.equal(kill.exitCode, 0, kill.stderr);
    const batch = await child;
    assert.equal(batch.exitCode, 1);
    const logs = await salvo(state, ['logs', 'watched']);
    assert.equal(logs.stdout, 'started');
    assert.match((await salvo(state, ['inspect', 'watched'])).stdout, /exit:\s+137 \(SIGKILL\)/);
    const missing = await salvo(state, ['inspect', 'nobody']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /no container nobody/);
    const gc = await salvo(state, ['gc', '--json']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.equal((JSON.parse(gc.stdout) as { recordsPruned: number }).recordsPruned, 1);
    assert.equal((await salvo(state, ['ps', '--all', '--json'])).stdout.trim(), '[]');
  });
});
