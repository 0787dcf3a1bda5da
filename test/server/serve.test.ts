// The serving launcher through the real CLI: parallel runs, detached containers with exec, wait
// and kill beside a batch, logs -f, a killed server replaced and its containers adopted, idle exit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { ProcessRecord } from '../../src/index.js';
import { RUNTIMES, removeTempDirs, sleep, tempDir } from '../helpers.js';
import { isRunning } from '../reliability/processes.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const serverPids = new Set<number>();

function salvo(stateDir: string, runtime: string, args: string[]): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: runtime, SALVO_IDLE_EXIT: '2s', NO_COLOR: '1' },
    timeout: 180_000,
  }) as ResultPromise<{ reject: false }>;
}

/** The pid of the launcher serving the directory (the state lock names its holder), noted for cleanup. */
function serverPid(stateDir: string): number {
  const pid = Number(readFileSync(join(stateDir, 'lock'), 'utf8').trim());
  assert.ok(pid > 0, 'a server holds the state lock');
  serverPids.add(pid);
  return pid;
}

async function records(stateDir: string, runtime: string): Promise<ProcessRecord[]> {
  const ps = await salvo(stateDir, runtime, ['ps', '--all', '--json']);
  assert.equal(ps.exitCode, 0, ps.stderr);
  return JSON.parse(ps.stdout) as ProcessRecord[];
}

after(async () => {
  // Servers idle out by themselves (the last test shows it); any still here is killed by its pid.
  for (const pid of serverPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  await sleep(100);
  removeTempDirs();
});

for (const runtime of RUNTIMES) {
  describe(`salvo serve (${runtime})`, { timeout: 600_000 }, () => {
    it('gives each of 8 salvo run at once on one state directory its own exit code', async () => {
      const stateDir = join(tempDir(), 'state');
      const runs = Array.from({ length: 8 }, (_, i) =>
        salvo(stateDir, runtime, ['run', '--id', `srv-par-${i}`, '--', '/bin/sh', '-c', `echo out-${i}; exit ${i + 1}`]),
      );
      const results = await Promise.all(runs);
      results.forEach((r, i) => {
        assert.equal(r.exitCode, i + 1, `run ${i}: ${r.stderr}`);
        assert.equal(r.stdout.trim(), `out-${i}`);
      });
      serverPid(stateDir);
      // One server for all of them: one "starting" line in its log.
      const starts = readFileSync(join(stateDir, 'serve.log'), 'utf8').match(/starting a serving launcher/g) ?? [];
      assert.equal(starts.length, 1);
    });

    it('runs -d, execs into it beside a batch of 50, and waits for it after a kill', async () => {
      const stateDir = join(tempDir(), 'state');
      const detached = await salvo(stateDir, runtime, ['run', '-d', '--id', 'srv-det', '--', '/bin/sleep', '30']);
      assert.equal(detached.exitCode, 0, detached.stderr);
      assert.equal(detached.stdout.trim(), 'srv-det');
      serverPid(stateDir);
      const jobs = join(tempDir(), 'jobs.jsonl');
      writeFileSync(
        jobs,
        Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `srv-job-${i}`, args: ['/bin/sh', '-c', 'exit 0'] })).join('\n') + '\n',
      );
      const batch = salvo(stateDir, runtime, ['batch', jobs, '--json', '--no-progress']);
      const exec = await salvo(stateDir, runtime, ['exec', 'srv-det', '--', '/bin/sh', '-c', 'echo inside; exit 6']);
      assert.equal(exec.exitCode, 6, exec.stderr);
      assert.equal(exec.stdout.trim(), 'inside');
      const done = await batch;
      assert.equal(done.exitCode, 0, done.stderr);
      const report = JSON.parse(done.stdout) as { jobs: { state: string; exitCode: number }[] };
      assert.equal(report.jobs.length, 50);
      assert.ok(report.jobs.every((r) => r.state === 'exited' && r.exitCode === 0));
      assert.equal((await salvo(stateDir, runtime, ['kill', 'srv-det', 'KILL'])).exitCode, 0);
      const wait = await salvo(stateDir, runtime, ['wait', 'srv-det']);
      assert.equal(wait.exitCode, 137, wait.stderr);
      const det = (await records(stateDir, runtime)).filter((r) => r.id === 'srv-det' && r.execId === 'init');
      assert.deepEqual(
        det.map((r) => [r.state, r.exitCode]),
        [['exited', 137]],
      );
      const running = await salvo(stateDir, runtime, ['ps', '--json']);
      assert.deepEqual(JSON.parse(running.stdout), []);
    });
  });
}

describe('salvo logs -f and a killed server (runc)', { timeout: 600_000 }, () => {
  const runtime = 'runc';

  it('ends salvo logs -f by itself when the container ends', async () => {
    const stateDir = join(tempDir(), 'state');
    const started = await salvo(stateDir, runtime, ['run', '-d', '--id', 'srv-log', '--', '/bin/sh', '-c', 'echo first; sleep 2; echo second']);
    assert.equal(started.exitCode, 0, started.stderr);
    serverPid(stateDir);
    const logs = await salvo(stateDir, runtime, ['logs', '-f', 'srv-log']);
    assert.equal(logs.exitCode, 0, logs.stderr);
    assert.equal(logs.stdout, 'first\nsecond');
  });

  it('has the next command start a server that adopts the containers of a SIGKILLed one, and exits when idle', async () => {
    const stateDir = join(tempDir(), 'state');
    const ids = Array.from({ length: 5 }, (_, i) => `srv-adopt-${i}`);
    for (const id of ids) {
      const r = await salvo(stateDir, runtime, ['run', '-d', '--id', id, '--', '/bin/sleep', '60']);
      assert.equal(r.exitCode, 0, r.stderr);
    }
    const first = serverPid(stateDir);
    process.kill(first, 'SIGKILL');
    while (isRunning(first)) await sleep(20);
    // The next command starts a new server, which adopts the five.
    const live = await salvo(stateDir, runtime, ['ps', '--json']);
    assert.equal(live.exitCode, 0, live.stderr);
    const second = serverPid(stateDir);
    assert.notEqual(second, first);
    assert.deepEqual(
      (JSON.parse(live.stdout) as ProcessRecord[]).map((r) => [r.id, r.state]).sort(),
      ids.map((id) => [id, 'running']),
    );
    // Ended now, their status goes to whoever inherited them: lost, 255.
    for (const id of ids) assert.equal((await salvo(stateDir, runtime, ['kill', id, 'KILL'])).exitCode, 0);
    for (const id of ids) assert.equal((await salvo(stateDir, runtime, ['wait', id])).exitCode, 255);
    const ended = await records(stateDir, runtime);
    assert.deepEqual(
      ended.map((r) => [r.id, r.state, r.exitCode]).sort(),
      ids.map((id) => [id, 'lost', 255]),
    );
    const gc = await salvo(stateDir, runtime, ['gc']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(readdirSync(join(stateDir, 'containers')), []);
    const list = execFileSync('runc', ['--root', join(stateDir, 'runtime', 'runc'), 'list', '--format', 'json'], { encoding: 'utf8' }).trim();
    assert.ok(list === '' || list === 'null' || list === '[]', list);
    assert.deepEqual(await records(stateDir, runtime), []);
    // Idle: no live container and no client for SALVO_IDLE_EXIT (2 s): it exits and removes its
    // socket. (A server may have idled out between two commands above: this is the last one.)
    const last = Number(readFileSync(join(stateDir, 'lock'), 'utf8').trim());
    if (last > 0) serverPids.add(last);
    const deadline = Date.now() + 60_000;
    while (last > 0 && isRunning(last) && Date.now() < deadline) await sleep(100);
    assert.equal(
      isRunning(last),
      false,
      `the idle server exited: ${readFileSync(join(stateDir, 'salvo.log'), 'utf8').split('\n').slice(-4).join('\n')}`,
    );
    assert.equal(existsSync(join(stateDir, 'salvo.sock')), false);
  });
});
