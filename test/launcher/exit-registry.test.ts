// The exit registry's order: a container's init exit is recorded and resolved after the exits of
// its exec'd processes reaped in the same or an earlier pass (containerd's promise).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { initStatusDir } from '../../src/io/init-status.js';
import { writeExitStatus } from '../../src/io/process-dir.js';
import { ExitRegistry, deferredExit, type LiveProcess } from '../../src/launcher/exit-registry.js';
import type { ReapedExit } from '../../src/reaper/reaper.js';
import { Store, type ExitRow } from '../../src/store/store.js';
import type { Exit } from '../../src/types.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function exited(pid: number, exitCode: number): ReapedExit {
  return { pid, kind: 'exited', exitCode, signal: null, userUs: 10, systemUs: 10, maxRssKb: 100 };
}

describe('ExitRegistry', () => {
  let dir: string;
  let store: Store;
  let rows: ExitRow[][];
  let registry: ExitRegistry;
  let finishedOrder: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'salvo-registry-'));
    store = Store.open(join(dir, 'salvo.db'), { pid: process.pid, pidStartTime: null, bootId: null });
    rows = [];
    const record = store.recordExits.bind(store);
    store.recordExits = (batch: readonly ExitRow[]): number => {
      rows.push([...batch]);
      return record(batch);
    };
    finishedOrder = [];
    // As the worker does: each file atomically, a little later (the pool's round trip).
    const writeStatuses = async (statuses: { dir: string; exitCode: number }[]): Promise<{ failed: number }> => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      for (const { dir: processDir, exitCode } of statuses) writeExitStatus(processDir, exitCode);
      return { failed: 0 };
    };
    registry = new ExitRegistry(store, silent, writeStatuses, (live) => finishedOrder.push(live.execId));
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A subscribed, running process with a real process directory, added to the registry. */
  function live(id: string, execId: string, pid: number, underInit = false): LiveProcess {
    const processDir = join(dir, 'containers', id, execId);
    mkdirSync(processDir, { recursive: true });
    const seq = store.subscribe({ id, execId, dir: processDir, bundle: '/b', batchId: null, labels: null, at: 1 });
    store.markRunning(seq, pid, 1, 2);
    const { exited: done, settle } = deferredExit();
    const process: LiveProcess = {
      seq,
      id,
      execId,
      pid,
      dir: processDir,
      startedAt: 2,
      exitFd: null,
      adopted: false,
      underInit,
      logLimit: 0,
      exited: done,
      settle,
    };
    registry.add(process);
    return process;
  }

  function resolutionOrder(processes: LiveProcess[]): string[] {
    const order: string[] = [];
    for (const p of processes) void p.exited.then((exit: Exit) => order.push(`${exit.execId}:${exit.exitCode}`));
    return order;
  }

  it("resolves an init after its exec'd processes reaped in the same pass, whatever the reaper's order", async () => {
    const init = live('c1', 'init', 100);
    const execs = Array.from({ length: 20 }, (_, i) => live('c1', `exec-${i}`, 200 + i));
    const order = resolutionOrder([init, ...execs]);
    // The init comes first in the pass, as the kernel may report it.
    registry.handleExits([exited(100, 0), ...execs.map((e, i) => exited(e.pid, i))]);
    await registry.settled();
    assert.equal(order.length, 21);
    assert.equal(order.at(-1), 'init:0', `the init resolved last: ${order.join(' ')}`);
    assert.equal(finishedOrder.at(-1), 'init');
    // One transaction for the pass, the init's row last.
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.at(-1)?.seq, init.seq);
    assert.equal(readFileSync(join(init.dir, 'exitStatus'), 'utf8'), '0\n');
  });

  it("resolves an init after its exec'd processes of an earlier pass that are still finishing", async () => {
    const init = live('c1', 'init', 100);
    const exec = live('c1', 'exec-1', 101);
    const order = resolutionOrder([init, exec]);
    registry.handleExits([exited(101, 7)]);
    registry.handleExits([exited(100, 0)]);
    await registry.settled();
    assert.deepEqual(order, ['exec-1:7', 'init:0']);
    assert.equal(store.get('c1', 'exec-1')?.exitCode, 7);
    assert.equal(store.get('c1')?.exitCode, 0);
  });

  it('does not hold an init back for the exec of another container', async () => {
    const other = live('c2', 'exec-1', 300);
    const init = live('c1', 'init', 100);
    let otherResolved = false;
    void other.exited.then(() => (otherResolved = true));
    // The other container's exec'd process is still running: c1's init must not wait for it.
    registry.handleExits([exited(100, 3)]);
    assert.equal((await init.exited).exitCode, 3);
    assert.equal(otherResolved, false);
    assert.equal(registry.byId('c2', 'exec-1'), other);
  });

  it('records each exit once when a pid is handed over twice', async () => {
    const exec = live('c1', 'exec-1', 101);
    registry.handleExits([exited(101, 5)]);
    registry.handleExits([exited(101, 6)]);
    await registry.settled();
    assert.equal((await exec.exited).exitCode, 5);
    assert.equal(rows.flat().length, 1);
  });

  it('warns when some exitStatus files could not be written, and still resolves every exit', async () => {
    const warnings: string[] = [];
    const logger = { ...silent, warn: (_: object, message: string) => warnings.push(message) };
    const failing = new ExitRegistry(
      store,
      logger,
      async (statuses) => ({ failed: statuses.length }),
      () => undefined,
    );
    const processDir = join(dir, 'containers', 'c9', 'init');
    mkdirSync(processDir, { recursive: true });
    const seq = store.subscribe({ id: 'c9', execId: 'init', dir: processDir, bundle: '/b', batchId: null, labels: null, at: 1 });
    store.markRunning(seq, 900, 1, 2);
    const { exited: done, settle } = deferredExit();
    failing.add({
      seq,
      id: 'c9',
      execId: 'init',
      pid: 900,
      dir: processDir,
      startedAt: 2,
      exitFd: null,
      adopted: false,
      underInit: false,
      logLimit: 0,
      exited: done,
      settle,
    });
    failing.handleExits([exited(900, 4)]);
    assert.equal((await done).exitCode, 4);
    assert.deepEqual(warnings, ['cannot write some exitStatus files']);
  });

  /** The store refuses every commit while `full` says so, as SQLite does on a full disk. */
  function refusingWhile(full: () => boolean): { attempts: number; committed: ExitRow[][] } {
    const seen = { attempts: 0, committed: [] as ExitRow[][] };
    const record = store.recordExits.bind(store);
    store.recordExits = (batch: readonly ExitRow[]): number => {
      seen.attempts++;
      if (full()) throw new SalvoError('ERR_STORE_FULL', 'cannot record exits: database or disk is full');
      seen.committed.push([...batch]);
      return record(batch);
    };
    return seen;
  }

  async function until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it('reports no exit the store refused until a retry commits it; then each is committed once, execs before their init', async () => {
    let full = true;
    const seen = refusingWhile(() => full);
    const init = live('c1', 'init', 100);
    const exec = live('c1', 'exec-1', 101);
    const order = resolutionOrder([init, exec]);
    registry.handleExits([exited(100, 0)]);
    registry.handleExits([exited(101, 7)]);
    await until(() => seen.attempts >= 4); // the two passes and two retries
    await registry.settled();
    assert.deepEqual(order, [], 'nothing reported');
    assert.equal(registry.uncommitted, 2);
    assert.equal(store.get('c1')?.state, 'running');
    full = false;
    await init.exited;
    assert.deepEqual(order, ['exec-1:7', 'init:0']);
    assert.deepEqual(
      seen.committed.map((batch) => batch.map((row) => row.seq)),
      [[exec.seq, init.seq]],
      'one commit, the exec first',
    );
    assert.equal(store.get('c1')?.state, 'exited');
    assert.equal(store.get('c1', 'exec-1')?.exitCode, 7);
    assert.equal(registry.uncommitted, 0);
  });

  it('finishes exits the store still refuses at close as not recorded, with the status the kernel gave', async () => {
    refusingWhile(() => true);
    const init = live('c1', 'init', 100);
    registry.handleExits([{ ...exited(100, 0), exitCode: 137, signal: 'SIGKILL' }]);
    registry.closeUncommitted();
    const exit = await init.exited;
    assert.equal(exit.recorded, false);
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(finishedOrder, ['init'], 'finished (its delete follows) without a record');
    assert.equal(store.get('c1')?.state, 'running', 'the store never claims it');
  });

  /** salvo-init's status file, as native/salvo-init.c writes it. */
  function initStatus(process: LiveProcess, text: string): void {
    mkdirSync(initStatusDir(process.dir));
    writeFileSync(join(initStatusDir(process.dir), 'status'), text);
  }

  it("records the command's signal behind salvo-init's 128 + n, and a real exit 143 as such", async () => {
    const killed = live('i1', 'init', 201, true);
    initStatus(killed, 'signal 15\n');
    const exited143 = live('i2', 'init', 202, true);
    initStatus(exited143, 'exit 143\n');
    const forged = live('i3', 'init', 203, true);
    initStatus(forged, 'signal 9\n'); // does not match 143: not believed
    const noInit = live('i4', 'init', 204);
    initStatus(noInit, 'signal 15\n'); // not run under salvo-init: never read
    registry.handleExits([exited(201, 143), exited(202, 143), exited(203, 143), exited(204, 143)]);
    const exits = await Promise.all([killed, exited143, forged, noInit].map((p) => p.exited));
    assert.deepEqual(
      exits.map((e) => [e.exitCode, e.signal]),
      [
        [143, 'SIGTERM'],
        [143, null],
        [143, null],
        [143, null],
      ],
    );
    assert.deepEqual(
      rows.flat().map((row) => [row.exitCode, row.signal]),
      [
        [143, 'SIGTERM'],
        [143, null],
        [143, null],
        [143, null],
      ],
    );
    assert.equal(store.get('i1')?.signal, 'SIGTERM');
  });

  it('keeps an init-run exit of 128 + n without a status file as the init said', async () => {
    const process = live('i5', 'init', 205, true);
    registry.handleExits([exited(205, 137)]);
    assert.deepEqual([(await process.exited).exitCode, (await process.exited).signal], [137, null]);
  });
});
