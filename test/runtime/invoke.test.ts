// Spawning a runtime command: output captured without pipes, spawn failures classified, and a
// shortage of fds waited out without leaking any (the child below runs with RLIMIT_NOFILE 64).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeFailure, invokeRuntime } from '../../src/runtime/invoke.js';
import type { RuntimeInvocation } from '../../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'salvo-invoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logFile = join(dir, 'log.json');

/** A "runtime" that is sh running `script` (salvo's global flags land in $1…, unused). */
function shell(script: string): RuntimeInvocation {
  return { file: '/bin/sh', prefix: ['-c', script, 'sh'], root: dir, extraGlobalArgs: [] };
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;

describe('invokeRuntime', () => {
  it('captures stdout and stderr without their final newline, and leaves no fd or file behind', async () => {
    const before = fdCount();
    const result = await invokeRuntime(shell('echo out; echo err >&2; exit 3'), logFile, ['state', 'x']);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, 'out');
    assert.equal(result.stderr, 'err');
    assert.equal(result.spawnError, null);
    assert.equal(result.waitedMs, 0);
    assert.equal(fdCount(), before);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.startsWith('.output-')),
      [],
    );
  });

  it('reports a binary that cannot be spawned as ERR_RUNTIME_NOT_FOUND', async () => {
    const result = await invokeRuntime({ ...shell(''), file: join(dir, 'no-such-runtime'), prefix: [] }, logFile, ['list']);
    assert.equal(result.spawnError?.code, 'ENOENT');
    assert.equal((await describeFailure(logFile, result)).code, 'ERR_RUNTIME_NOT_FOUND');
  });

  it("reports salvo-exec's 'exec: No such file' (the runtime vanished after open) as ERR_RUNTIME_NOT_FOUND", async () => {
    const result = await invokeRuntime(shell("echo 'salvo-exec: exec /gone/runc: No such file or directory' >&2; exit 127"), logFile, ['list']);
    const error = await describeFailure(join(dir, 'empty.log.json'), result);
    assert.equal(error.code, 'ERR_RUNTIME_NOT_FOUND');
    assert.match(error.message, /\/gone\/runc/);
  });

  it('kills a command that outlives its timeout', async () => {
    const result = await invokeRuntime(shell('exec sleep 30'), logFile, ['run'], { timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGKILL');
  });
});

// Runs in a child with RLIMIT_NOFILE 64: fill the fd table, free it after 300 ms (or never).
const UNDER_EMFILE = `
import { closeSync, openSync, readdirSync } from 'node:fs';
import { describeFailure, invokeRuntime } from ${JSON.stringify(new URL('../../src/runtime/invoke.js', import.meta.url).href)};
// As a worker's entry does: execa is loaded before any fd runs out (invoke.ts imports it on use).
import ${JSON.stringify(new URL('../../src/runtime/execa-spawn.js', import.meta.url).href)};
const [logFile, mode] = process.argv.slice(2);
const runtime = { file: '/bin/sh', prefix: ['-c', 'echo hello', 'sh'], root: '/', extraGlobalArgs: [], env: {} };
const count = () => readdirSync('/proc/self/fd').length;
const before = count();
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
if (mode === 'freed') setTimeout(() => held.splice(0).forEach((fd) => closeSync(fd)), 300);
const result = await invokeRuntime(runtime, logFile, ['list'], { timeoutMs: mode === 'freed' ? 10_000 : 500 });
const error = result.spawnError === null ? null : await describeFailure(logFile, result);
held.splice(0).forEach((fd) => closeSync(fd));
console.log(JSON.stringify({ exitCode: result.exitCode, stdout: result.stdout, waitedMs: result.waitedMs, error, leaked: count() - before }));
`;

function underEmfile(mode: 'freed' | 'never'): {
  exitCode: number | null;
  stdout: string;
  waitedMs: number;
  error: { code: string } | null;
  leaked: number;
} {
  const script = join(dir, 'under-emfile.mjs');
  writeFileSync(script, UNDER_EMFILE);
  const out = execFileSync('prlimit', ['--nofile=64:64', process.execPath, script, logFile, mode], { encoding: 'utf8' });
  return JSON.parse(out) as ReturnType<typeof underEmfile>;
}

describe('invokeRuntime out of fds', () => {
  it('waits until an fd is free, then runs, and says how long it waited', () => {
    const result = underEmfile('freed');
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'hello');
    assert.ok(result.waitedMs >= 200, `waited ${result.waitedMs} ms`);
    assert.equal(result.leaked, 0);
  });

  it('gives up after its patience with ERR_RESOURCE_EXHAUSTED, leaking nothing', () => {
    const result = underEmfile('never');
    assert.equal(result.exitCode, null);
    assert.equal(result.error?.code, 'ERR_RESOURCE_EXHAUSTED');
    assert.equal(result.leaked, 0);
  });
});
