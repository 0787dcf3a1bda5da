// Issue 14 §6: a full disk under the store. Every store failure is a salvo code (never a raw
// SQLite error); a start whose record cannot be written fails before anything is spawned; exits
// the store cannot commit are not reported until they are, then committed once; exits still
// uncommitted when the launcher closes are reported as not recorded, never as recorded.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { Launcher, SalvoError } from '../../src/index.js';
import type { Exit, JobResult, Logger } from '../../src/index.js';
import { RUNTIMES, fillFilesystem, removeTempDirs, runtimeContainers, tempDir } from '../helpers.js';

after(removeTempDirs);

interface LogLine {
  level: string;
  msg: string;
  exits?: number;
}

/** A logger that keeps every line, for conditions the test waits on. */
function keepingLogger(lines: LogLine[]): Logger {
  const keep =
    (level: string) =>
    (obj: object, msg = ''): void => {
      lines.push({ level, msg, ...(obj as { exits?: number }) });
    };
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** Polls a condition (no fixed sleep decides anything: only how often it is looked at). */
async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A state directory that is a small tmpfs of its own, unmounted afterwards. */
async function onStoreTmpfs(body: (stateDir: string) => Promise<void>): Promise<void> {
  const stateDir = join(tempDir('flt-'), 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', stateDir]);
  try {
    await body(stateDir);
  } finally {
    rmSync(join(stateDir, 'filler'), { force: true });
    await unmountWhenFree(stateDir);
  }
}

/** Unmounts once nothing uses the mount: a server that failed to open may still be exiting (its cwd is there). */
async function unmountWhenFree(dir: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      return;
    } catch (error) {
      if (!/busy/.test(String((error as { stderr?: unknown }).stderr)) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Makes the store's next write need a new block, then takes the last block: the WAL is
 * checkpointed and truncated to 0 bytes (else SQLite reuses its blocks and a commit still fits),
 * then a filler file takes every free page.
 */
function fillUnderStore(stateDir: string): void {
  const db = new Database(join(stateDir, 'salvo.db'));
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    assert.equal(result?.busy, 0, 'the checkpoint ran');
  } finally {
    db.close();
  }
  const wal = join(stateDir, 'salvo.db-wal');
  assert.ok(!existsSync(wal) || statSync(wal).size === 0, 'the WAL is empty');
  fillFilesystem(join(stateDir, 'filler'));
}

function freeSpace(stateDir: string): void {
  rmSync(join(stateDir, 'filler'));
}

/** Reaped: not even a zombie is left. */
function gone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

const storeFull = (error: unknown): boolean =>
  error instanceof SalvoError &&
  error.code === 'ERR_STORE_FULL' &&
  (error.cause as { code?: string }).code === 'SQLITE_FULL' &&
  error.details.sqliteCode === 'SQLITE_FULL';

for (const runtime of RUNTIMES) {
  describe(`a full disk under the store (${runtime})`, { timeout: 300_000 }, () => {
    it('fails a start whose record cannot be written with ERR_STORE_FULL (a failed job in a batch), spawns nothing, and starts again once there is room', async () => {
      await onStoreTmpfs(async (stateDir) => {
        const launcher = await Launcher.open({ stateDir, runtime, logger: keepingLogger([]) });
        try {
          await launcher.defaultBundle();
          fillUnderStore(stateDir);
          await assert.rejects(launcher.start({ id: 'flt-sub', args: ['/bin/sleep', '1000'] }), storeFull);
          const results: JobResult[] = [];
          for await (const result of launcher.batch([{ id: 'flt-sub-batch', args: ['/bin/sleep', '1000'] }])) results.push(result);
          assert.equal(results.length, 1);
          assert.equal(results[0]?.state, 'failed');
          assert.equal(results[0]?.error?.code, 'ERR_STORE_FULL');
          assert.doesNotMatch(results[0]?.error?.message ?? '', /^SQLITE_/);
          for (const id of ['flt-sub', 'flt-sub-batch']) {
            assert.equal(launcher.get(id), undefined, `no record of ${id}`);
            assert.ok(!runtimeContainers(launcher).includes(id), `the runtime has no ${id}`);
            assert.ok(!existsSync(join(stateDir, 'containers', id, 'init', 'pid')), `no process of ${id} was spawned`);
          }
          freeSpace(stateDir);
          const proc = await launcher.start({ id: 'flt-sub', args: ['/bin/sh', '-c', 'exit 4'] });
          const exit = await proc.exited;
          assert.equal(exit.exitCode, 4);
          assert.equal(exit.recorded, true);
          assert.equal(launcher.get('flt-sub')?.exitCode, 4);
        } finally {
          await launcher.close();
        }
      });
    });

    it('reports exits that happen while the disk is full only once committed: after room returns each is committed once and the batch results and the store agree', async () => {
      await onStoreTmpfs(async (stateDir) => {
        const lines: LogLine[] = [];
        const launcher = await Launcher.open({ stateDir, runtime, logger: keepingLogger(lines) });
        const ids = ['flt-full-0', 'flt-full-1', 'flt-full-2'];
        try {
          const pids = new Map<string, number>();
          const results: JobResult[] = [];
          const batch = launcher.batch(
            ids.map((id) => ({ id, args: ['/bin/sleep', '1000'] })),
            { onEvent: (event) => event.type === 'started' && pids.set(event.id, event.pid as number) },
          );
          const consuming = (async () => {
            for await (const result of batch) results.push(result);
          })();
          await until('every job running', () => pids.size === ids.length);
          fillUnderStore(stateDir);
          for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
          const refusedAgain = (): boolean => lines.some((l) => l.msg === 'still cannot record exits in the store' && l.exits === ids.length);
          // Either the launcher reports them (the bug) or the store refused all three twice.
          await until('the exits reaped and refused, or reported', () => results.length > 0 || ([...pids.values()].every(gone) && refusedAgain()));
          assert.equal(results.length, 0, 'no exit is reported while the store cannot record it');
          assert.equal(launcher.pendingExits, ids.length, 'the launcher says they wait for the store');
          for (const id of ids) assert.equal(launcher.get(id)?.state, 'running', `${id} is still running in the store, as reported`);

          freeSpace(stateDir);
          await consuming;
          assert.equal(launcher.pendingExits, 0);
          assert.equal(results.length, ids.length);
          for (const result of results) {
            assert.equal(result.state, 'exited', result.id);
            assert.equal(result.exitCode, 137);
            assert.equal(result.signal, 'SIGKILL');
            assert.equal(result.error, null);
            const records = launcher.list({ id: result.id });
            assert.equal(records.length, 1, `one record of ${result.id}`);
            const [record] = records;
            assert.equal(record?.state, 'exited');
            assert.equal(record?.exitCode, result.exitCode);
            assert.equal(record?.signal, result.signal);
            assert.equal(record?.exitedAt, result.endedAt, 'the record is the reported exit');
          }
          const committedLate = lines.filter((l) => l.msg === 'recorded exits that waited for the store');
          assert.equal(
            committedLate.reduce((n, l) => n + (l.exits ?? 0), 0),
            ids.length,
            'each waiting exit was committed once',
          );
        } finally {
          await launcher.close();
        }
        const left = runtimeContainers(launcher).filter((id) => ids.includes(id));
        assert.deepEqual(left, [], 'nothing left in the runtime');
      });
    });

    it('reports exits still uncommitted when the launcher closes as not recorded (ERR_EXIT_NOT_RECORDED, the kernel status kept); the next launcher resolves them lost', async () => {
      await onStoreTmpfs(async (stateDir) => {
        const lines: LogLine[] = [];
        const launcher = await Launcher.open({ stateDir, runtime, logger: keepingLogger(lines) });
        const ids = ['flt-close-0', 'flt-close-1'];
        let exits: Exit[] = [];
        try {
          const procs = await Promise.all(ids.map((id) => launcher.start({ id, args: ['/bin/sleep', '1000'] })));
          fillUnderStore(stateDir);
          for (const proc of procs) process.kill(proc.pid, 'SIGKILL');
          let reported = 0;
          for (const proc of procs) void proc.exited.then(() => reported++);
          const refusedAgain = (): boolean => lines.some((l) => l.msg === 'still cannot record exits in the store' && l.exits === ids.length);
          await until('the exits reaped and refused, or reported', () => reported > 0 || (procs.every((p) => gone(p.pid)) && refusedAgain()));
          assert.equal(reported, 0, 'not reported while uncommitted');
          await launcher.close();
          exits = await Promise.all(procs.map((proc) => proc.exited));
        } finally {
          await launcher.close();
        }
        for (const exit of exits) {
          assert.equal(exit.recorded, false, `${exit.id} is reported as not recorded`);
          assert.equal(exit.exitCode, 137, 'the status the kernel gave is kept');
          assert.equal(exit.signal, 'SIGKILL');
        }
        freeSpace(stateDir);
        const next = await Launcher.open({ stateDir, runtime, logger: keepingLogger([]) });
        try {
          for (const id of ids) {
            const records = next.list({ id });
            assert.equal(records.length, 1, `one record of ${id}`);
            assert.equal(records[0]?.state, 'lost', 'never claimed exited: the next launcher resolves it lost');
            assert.equal(records[0]?.exitCode, 255);
          }
        } finally {
          await next.close();
        }
        assert.deepEqual(
          runtimeContainers(next).filter((id) => ids.includes(id)),
          [],
          'nothing left in the runtime',
        );
      });
    });

    it('gives the CLI one line with the store code and exit status 3 when the store cannot be written at open, no raw SQLite error', async () => {
      await onStoreTmpfs(async (stateDir) => {
        await (await Launcher.open({ stateDir, runtime, logger: keepingLogger([]) })).close();
        fillUnderStore(stateDir);
        const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
        const result = await execa(
          process.execPath,
          [main, '--state-dir', stateDir, '--runtime', runtime, 'run', '--id', 'flt-cli', '--', '/bin/true'],
          {
            reject: false,
          },
        );
        assert.equal(result.exitCode, 3, result.stderr);
        assert.match(result.stderr, /\(ERR_STORE_[A-Z]+\)/);
        assert.doesNotMatch(result.stderr, /SqliteError|at .*node_modules/);
      });
    });
  });
}
