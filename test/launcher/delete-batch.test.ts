// The delete after an exit, batched: with real crun, the deletes asked for in one tick go out as
// one `delete --force --regex` that removes exactly those containers (an id with a dot does not
// match its look-alike); a runtime that refuses the batch gets one delete per container instead.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeleteBatcher, batchDeleteArgs } from '../../src/launcher/delete-batch.js';
import { RuntimePool } from '../../src/launcher/pool.js';
import type { Launcher, Logger } from '../../src/index.js';
import type { MountHelper, RuntimeInvocation } from '../../src/types.js';
import type { CommandResult } from '../../src/worker/protocol.js';
import { RUNTIMES, openLauncher, removeTempDirs, runtimeContainers, tempDir } from '../helpers.js';

after(removeTempDirs);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('batchDeleteArgs', () => {
  it('anchors the ids and escapes the dot, the one regex character an id may hold', () => {
    assert.deepEqual(batchDeleteArgs(['dlb-1', 'dlb-a.b']), ['delete', '--force', '--regex', '^(dlb-1|dlb-a\\.b)$']);
  });
});

// These containers come from bundles: no overlay to release.
const NO_MOUNTS: MountHelper = { file: null, prefix: ['-'], mountinfo: '/proc/self/mountinfo' };

/** Where a test's delete of `id` logs. */
const deleteLog = (launcher: Launcher, id: string): string => join(launcher.stateDir, `${id}.delete.log.json`);

/**
 * Runs `body` with a launcher on `runtime` (no deletes after exits) whose /bin/true containers
 * `ids` have all exited (they stay in the runtime), and a pool of its own; both closed after.
 */
async function withStoppedContainers(runtime: string, ids: string[], body: (launcher: Launcher, pool: RuntimePool) => Promise<void>): Promise<void> {
  const launcher = await openLauncher(runtime, { deleteAfterExit: false });
  const pool = new RuntimePool(1, 4);
  try {
    const procs = await Promise.all(ids.map((id) => launcher.start({ id, args: ['/bin/true'] })));
    for (const proc of procs) assert.equal((await proc.exited).exitCode, 0);
    await body(launcher, pool);
  } finally {
    await pool.destroy();
    await launcher.close();
  }
}

/** Asks for every delete in one tick, as one reap pass does; resolves once all are answered. */
async function deleteAll(batcher: DeleteBatcher, launcher: Launcher, ids: string[]): Promise<void> {
  const results = await Promise.all(ids.map((id) => batcher.delete(id, false, deleteLog(launcher, id))));
  results.forEach((result, i) => assert.ok(result.ok, `${ids[i]}: ${result.ok ? '' : result.error.message}`));
}

/**
 * A crun batcher on the launcher's runtime state; `wrap` (a sh case on the argv, before exec of
 * the real crun) stands in for a runtime that behaves otherwise.
 */
function crunBatcher(launcher: Launcher, pool: RuntimePool, wrap: string | null = null, startsUnderWay?: () => boolean): DeleteBatcher {
  const { path, root, mountNamespace } = launcher.runtime;
  let runtimePath = path;
  if (wrap !== null) {
    runtimePath = join(tempDir(), 'crun');
    writeFileSync(runtimePath, `#!/bin/sh\n${wrap}\nexec ${path} "$@"\n`);
    chmodSync(runtimePath, 0o755);
  }
  const invocation: RuntimeInvocation = { file: runtimePath, prefix: [], root, extraGlobalArgs: [], native: { path: runtimePath, mountNamespace } };
  return new DeleteBatcher(
    pool,
    () => invocation,
    () => NO_MOUNTS,
    true,
    quiet,
    startsUnderWay,
  );
}

/**
 * With starts under way throughout: the delete of `running` goes out alone (past the hold bound)
 * and is kept running until `release()`; then the delete of `next` is asked for.
 */
async function oneDeleteRunning(
  launcher: Launcher,
  pool: RuntimePool,
  running: string,
  next: string,
): Promise<{ batcher: DeleteBatcher; first: Promise<CommandResult>; second: Promise<CommandResult>; release: () => void }> {
  const released = join(tempDir(), 'release');
  const batcher = crunBatcher(launcher, pool, `case " $* " in *" ${running} "*) while [ ! -e ${released} ]; do sleep 0.01; done ;; esac`, () => true);
  const first = batcher.delete(running, false, deleteLog(launcher, running));
  await new Promise((resolve) => setTimeout(resolve, 300)); // past the hold bound: it goes alone
  while (batcher.stats.singles === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const second = batcher.delete(next, false, deleteLog(launcher, next));
  return { batcher, first, second, release: () => writeFileSync(released, '') };
}

describe('DeleteBatcher with crun', { skip: !RUNTIMES.includes('crun') && 'crun is not among SALVO_TEST_RUNTIMES', timeout: 120_000 }, () => {
  const doomed = ['dlb-1', 'dlb-2', 'dlb-3', 'dlb-a.b'];
  const kept = ['dlb-10', 'dlb-aXb']; // look-alikes a loose regex would take too

  for (const refusesRegex of [false, true]) {
    it(
      refusesRegex
        ? 'falls back to one delete per container when the batched delete fails, leaving none of them behind'
        : 'deletes the containers of one pass in one runtime call, and exactly those',
      () =>
        withStoppedContainers('crun', [...doomed, ...kept], async (launcher, pool) => {
          const refuse = `case " $* " in *" --regex "*) echo 'no regex here' >&2; exit 1 ;; esac`;
          const batcher = crunBatcher(launcher, pool, refusesRegex ? refuse : null);
          await deleteAll(batcher, launcher, doomed);
          assert.deepEqual(runtimeContainers(launcher).sort(), [...kept].sort());
          assert.deepEqual(
            batcher.stats,
            refusesRegex
              ? { batches: 0, batchedContainers: 0, singles: doomed.length, fallbacks: 1 }
              : { batches: 1, batchedContainers: doomed.length, singles: 0, fallbacks: 0 },
          );
          await deleteAll(batcher, launcher, kept);
          assert.deepEqual(runtimeContainers(launcher), []);
        }),
    );
  }
});

describe(
  'DeleteBatcher while a delete runs',
  { skip: !RUNTIMES.includes('crun') && 'crun is not among SALVO_TEST_RUNTIMES', timeout: 120_000 },
  () => {
    it('gathers the exits that come meanwhile into one call made when it ends', () =>
      withStoppedContainers('crun', ['dlb-w1', 'dlb-w2', 'dlb-w3'], async (launcher, pool) => {
        // The first delete holds until the test lets it go, so the others surely come while it runs.
        const release = join(tempDir(), 'release');
        const batcher = crunBatcher(launcher, pool, `case " $* " in *" dlb-w1 "*) while [ ! -e ${release} ]; do sleep 0.01; done ;; esac`);
        const first = batcher.delete('dlb-w1', false, deleteLog(launcher, 'dlb-w1'));
        while (batcher.stats.singles === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        const second = batcher.delete('dlb-w2', false, deleteLog(launcher, 'dlb-w2'));
        await new Promise((resolve) => setTimeout(resolve, 20)); // past the batching window: still held back
        const third = batcher.delete('dlb-w3', false, deleteLog(launcher, 'dlb-w3'));
        assert.deepEqual(batcher.stats, { batches: 0, batchedContainers: 0, singles: 1, fallbacks: 0 });
        writeFileSync(release, '');
        for (const result of await Promise.all([first, second, third])) assert.ok(result.ok, result.ok ? '' : result.error.message);
        assert.deepEqual(batcher.stats, { batches: 1, batchedContainers: 2, singles: 1, fallbacks: 0 });
        assert.deepEqual(runtimeContainers(launcher), []);
      }));
  },
);

describe('DeleteBatcher behind starts', { skip: !RUNTIMES.includes('crun') && 'crun is not among SALVO_TEST_RUNTIMES', timeout: 120_000 }, () => {
  it('holds exits past the usual window while starts are under way, and deletes them in one call once the starts end', () => {
    const ids = ['dlb-h1', 'dlb-h2', 'dlb-h3'];
    return withStoppedContainers('crun', ids, async (launcher, pool) => {
      let starting = true;
      const batcher = crunBatcher(launcher, pool, null, () => starting);
      const first = batcher.delete('dlb-h1', false, deleteLog(launcher, 'dlb-h1'));
      await new Promise((resolve) => setTimeout(resolve, 30)); // past the 5 ms window of an idle launcher
      const rest = ids.slice(1).map((id) => batcher.delete(id, false, deleteLog(launcher, id)));
      assert.deepEqual(batcher.stats, { batches: 0, batchedContainers: 0, singles: 0, fallbacks: 0 }, 'nothing deleted yet');
      assert.equal(runtimeContainers(launcher).length, 3);
      starting = false;
      batcher.hurry();
      for (const result of await Promise.all([first, ...rest])) assert.ok(result.ok, result.ok ? '' : result.error.message);
      assert.deepEqual(batcher.stats, { batches: 1, batchedContainers: 3, singles: 0, fallbacks: 0 });
      assert.deepEqual(runtimeContainers(launcher), []);
    });
  });

  it('holds an exit that came during a delete for the hold bound (250 ms), not the in-flight bound (5 s), once that delete ends', () =>
    withStoppedContainers('crun', ['dlb-f1', 'dlb-f2'], async (launcher, pool) => {
      const { first, second, release } = await oneDeleteRunning(launcher, pool, 'dlb-f1', 'dlb-f2');
      release();
      assert.ok((await first).ok);
      const released = Date.now();
      assert.ok((await second).ok);
      // Starts stay under way throughout: only the hold's bound lets dlb-f2 go (its delete takes well under 4 s).
      const waited = Date.now() - released;
      assert.ok(waited < 4000, `dlb-f2 was deleted ${waited} ms after the delete before it ended`);
    }));
});

describe('DeleteBatcher hurried', { skip: !RUNTIMES.includes('crun') && 'crun is not among SALVO_TEST_RUNTIMES', timeout: 120_000 }, () => {
  it('sends what a hurry found held behind a running delete as soon as that delete ends, though starts go on', () =>
    withStoppedContainers('crun', ['dlb-u1', 'dlb-u2'], async (launcher, pool) => {
      const { batcher, first, second, release } = await oneDeleteRunning(launcher, pool, 'dlb-u1', 'dlb-u2');
      batcher.hurry(); // as a new start of dlb-u2 does
      release();
      assert.ok((await first).ok);
      // The delete of dlb-u2 is asked for in the same turn as dlb-u1's delete ends: not held again.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(batcher.stats.singles, 2, 'dlb-u2 went out when dlb-u1 was done');
      assert.ok((await second).ok);
    }));
});

describe('DeleteBatcher with runc', { skip: !RUNTIMES.includes('runc') && 'runc is not among SALVO_TEST_RUNTIMES', timeout: 120_000 }, () => {
  it('deletes one by one (runc has no --regex), and every container goes', () => {
    const ids = ['dlb-r1', 'dlb-r2', 'dlb-r3'];
    return withStoppedContainers('runc', ids, async (launcher, pool) => {
      const { path, root } = launcher.runtime;
      const invocation: RuntimeInvocation = { file: path, prefix: [], root, extraGlobalArgs: [], native: { path, mountNamespace: null } };
      const batcher = new DeleteBatcher(
        pool,
        () => invocation,
        () => NO_MOUNTS,
        false,
        quiet,
      );
      await deleteAll(batcher, launcher, ids);
      assert.deepEqual(runtimeContainers(launcher), []);
      assert.deepEqual(batcher.stats, { batches: 0, batchedContainers: 0, singles: 3, fallbacks: 0 });
    });
  });
});
