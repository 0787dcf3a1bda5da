// The addon's vfork spawner (native/spawn.c through src/runtime/native-spawn.ts), on real programs:
// exits and signals, errno and path of a failed exec, exactly the fds given, default signal
// dispositions, death with the launcher, and many spawns from many workers beside execa and
// child_process without a lost, doubled or stolen exit.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { execa } from 'execa';
import { native } from '../../src/native.js';
import { OrphanSweeper } from '../../src/reaper/orphans.js';
import { spawnNativeOnce } from '../../src/runtime/native-spawn.js';
import { describeFailure, invokeRuntime } from '../../src/runtime/invoke.js';
import { isRunning, waitFor } from '../reliability/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'salvo-native-spawn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: '/usr/bin:/bin' };
const NATIVE_SPAWN_URL = new URL('../../src/runtime/native-spawn.js', import.meta.url).href;

/** Runs a program natively with its stdout and stderr in one file; returns the outcome and the output. */
async function run(file: string, args: string[], options: { timeoutMs?: number } = {}) {
  const outPath = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const out = openSync(outPath, 'w+');
  try {
    const outcome = await spawnNativeOnce(file, args, env, { stdin: -1, stdout: out, stderr: out }, null, options.timeoutMs ?? 0);
    return { ...outcome, output: readFileSync(outPath, 'utf8') };
  } finally {
    closeSync(out);
    rmSync(outPath, { force: true });
  }
}

describe('the native spawner', () => {
  it('reports exit codes and the signal that killed a program', async () => {
    assert.deepEqual(
      [
        (await run('/bin/sh', ['-c', 'exit 0'])).exitCode,
        (await run('/bin/sh', ['-c', 'exit 7'])).exitCode,
        (await run('/bin/sh', ['-c', 'exit 255'])).exitCode,
      ],
      [0, 7, 255],
    );
    const killed = await run('/bin/sh', ['-c', 'kill -TERM $$']);
    assert.deepEqual([killed.exitCode, killed.signal, killed.spawnError], [null, 'SIGTERM', null]);
    const timedOut = await run('/bin/sleep', ['30'], { timeoutMs: 100 });
    assert.deepEqual([timedOut.signal, timedOut.timedOut], ['SIGKILL', true]);
  });

  it('reports ENOENT and EACCES with the errno and the path, and invokeRuntime makes them ERR_RUNTIME_NOT_FOUND', async () => {
    const missing = join(dir, 'no-such-runtime');
    const notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, '#!/bin/sh\n');
    chmodSync(notExecutable, 0o644);
    const enoent = await run(missing, []);
    assert.equal(enoent.spawnError?.code, 'ENOENT');
    assert.match(enoent.spawnError?.message ?? '', new RegExp(`^ENOENT: No such file or directory, spawn ${missing}$`));
    const eacces = await run(notExecutable, []);
    assert.equal(eacces.spawnError?.code, 'EACCES');
    assert.ok(eacces.spawnError?.message.includes(notExecutable), eacces.spawnError?.message);
    const runtime = { file: '/bin/false', prefix: [], root: dir, extraGlobalArgs: [], native: { path: missing, mountNamespace: null } };
    const result = await invokeRuntime(runtime, join(dir, 'log.json'), ['run', 'x']);
    const error = await describeFailure(join(dir, 'log.json'), result);
    assert.equal(error.code, 'ERR_RUNTIME_NOT_FOUND');
    assert.ok(error.message.includes(missing) && error.message.includes('ENOENT'), error.message);
  });

  it('gives the child exactly fds 0, 1 and 2: ls sees only them and its own directory fd', async () => {
    const extra = openSync(join(dir, 'extra'), 'w'); // an fd of ours that must not cross
    try {
      const { exitCode, output } = await run('/bin/ls', ['-l', '/proc/self/fd']);
      assert.equal(exitCode, 0);
      const fds = [...output.matchAll(/ (\d+) -> (.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
      assert.deepEqual(
        fds.map(([fd]) => fd),
        [0, 1, 2, 3],
        output,
      );
      assert.equal(fds[0]?.[1], '/dev/null');
      assert.match(String(fds[3]?.[1]), /^\/proc\/\d+\/fd$/);
    } finally {
      closeSync(extra);
    }
  });

  it('starts the child with default signal dispositions and an empty mask, though Node ignores SIGPIPE', async () => {
    const ours = readFileSync('/proc/self/status', 'utf8');
    assert.notEqual(/^SigIgn:\s*(\S+)/m.exec(ours)?.[1], '0000000000000000', 'the test needs a parent that ignores a signal');
    const { output } = await run('/bin/cat', ['/proc/self/status']); // cat installs no handler of its own
    const lines = output.split('\n').filter((line) => /^Sig(Blk|Ign|Cgt):/.test(line));
    assert.deepEqual(
      lines.map((line) => line.replace(/\s+/g, ' ')),
      ['SigBlk: 0000000000000000', 'SigIgn: 0000000000000000', 'SigCgt: 0000000000000000'],
    );
  });

  it('kills the child (PR_SET_PDEATHSIG) when the process that spawned it is SIGKILLed', async () => {
    const pidFile = join(dir, 'hung.pid');
    const script = `
      const { spawnNativeOnce } = await import(${JSON.stringify(NATIVE_SPAWN_URL)});
      await spawnNativeOnce('/bin/sh', ['-c', 'echo $$ > ${pidFile}; exec sleep 3600'], {}, { stdin: -1, stdout: 1, stderr: 2 }, null, 0);`;
    const launcher = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    await waitFor('the hung child to write its pid', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000);
    const hung = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(isRunning(hung));
    launcher.kill('SIGKILL');
    await waitFor('the hung child to die with its parent', () => !isRunning(hung), 10_000);
  });

  it('lets a worker be terminated while its child hangs: the process lives on, the child dies with the thread', async () => {
    const pidFile = join(dir, 'terminated.pid');
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(workerData.url).then(({ spawnNativeOnce }) =>
         spawnNativeOnce('/bin/sh', ['-c', 'echo $$ > ' + workerData.pidFile + '; exec sleep 3600'], {}, { stdin: -1, stdout: 1, stderr: 2 }, null, 0));`,
      { eval: true, workerData: { url: NATIVE_SPAWN_URL, pidFile } },
    );
    await waitFor('the hung child to write its pid', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000);
    const hung = Number(readFileSync(pidFile, 'utf8'));
    await worker.terminate();
    await waitFor('the child to die with its thread', () => !isRunning(hung), 10_000);
    native().waitPid(hung); // its zombie came back to another thread of ours: nobody else reaps it here
  });

  it("is never reaped by the main thread's orphan sweep while its worker has not waited for it yet", async () => {
    // The worker spawns a shell that exits at once, then blocks its loop until told: a zombie meanwhile.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const pidFile = join(dir, 'zombie.pid');
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.url).then(({ spawnNativeOnce }) => {
         const exited = spawnNativeOnce('/bin/sh', ['-c', 'echo $$ > ' + workerData.pidFile], {}, { stdin: -1, stdout: 1, stderr: 2 }, null, 0);
         exited.then((outcome) => parentPort.postMessage(outcome));
         Atomics.wait(workerData.gate, 0, 0);
       });`,
      { eval: true, workerData: { url: NATIVE_SPAWN_URL, gate, pidFile } },
    );
    const messages: { pid?: number; exitCode?: number }[] = [];
    worker.on('message', (message) => messages.push(message as (typeof messages)[number]));
    await waitFor('the child to write its pid', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const state = (): string | undefined => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    await waitFor('the child to be a zombie waiting for its worker', () => state() === 'Z', 20_000);
    const sweeper = new OrphanSweeper(0, () => assert.fail('the orphan sweep reaped a worker-spawned child'));
    assert.deepEqual(sweeper.sweep(), []);
    assert.deepEqual(sweeper.sweep(Date.now() + 60_000), []);
    assert.equal(state(), 'Z', 'still there for its worker');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await waitFor('the worker to get its exit', () => messages.length > 0, 20_000);
    assert.deepEqual([messages[0]?.pid, messages[0]?.exitCode], [pid, 0]);
    await worker.terminate();
  });

  it('records 1,000 spawns from 4 workers at once with no lost or doubled exit, while execa and child_process get theirs', async () => {
    const perWorker = 250;
    const workers = Array.from(
      { length: 4 },
      (_, w) =>
        new Promise<{ pid: number; code: number | null; want: number }[]>((resolve, reject) => {
          const worker = new Worker(
            `const { workerData, parentPort } = require('node:worker_threads');
           import(workerData.url).then(async ({ spawnNativeOnce }) => {
             const runs = [];
             for (let i = 0; i < workerData.count; i++) {
               const want = (workerData.w * workerData.count + i) % 256;
               runs.push(spawnNativeOnce('/bin/sh', ['-c', 'exit ' + want], {}, { stdin: -1, stdout: 1, stderr: 2 }, null, 0)
                 .then((o) => ({ pid: o.pid, code: o.exitCode, want, error: o.spawnError })));
             }
             parentPort.postMessage(await Promise.all(runs));
           });`,
            { eval: true, workerData: { url: NATIVE_SPAWN_URL, count: perWorker, w } },
          );
          worker.once('message', (results) => {
            void worker.terminate();
            resolve(results as { pid: number; code: number | null; want: number }[]);
          });
          worker.once('error', reject);
        }),
    );
    const others = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? execa('/bin/sh', ['-c', `exit ${i}`], { reject: false }).then((r) => r.exitCode)
        : promisify(execFile)('/bin/sh', ['-c', `exit ${i}`]).then(
            () => 0,
            (error: { code: number }) => error.code,
          ),
    );
    const results = (await Promise.all(workers)).flat();
    assert.equal(results.length, 1000);
    for (const result of results) assert.equal(result.code, result.want, JSON.stringify(result));
    assert.equal(new Set(results.map((r) => r.pid)).size, 1000, 'no exit reported twice');
    assert.deepEqual(
      await Promise.all(others),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
