// A delete after an exit that fails is retried with backoff, shown in the live view (ps, inspect,
// list) until it succeeds, and after its last retry left for gc with its reason (issue 14 §7).
// The runtime is the real runc or crun behind a wrapper that refuses `delete` while told to.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatRecords } from '../../src/cli/commands/ps.js';
import type { Launcher } from '../../src/index.js';
import { resolveRuntime } from '../../src/runtime/resolve.js';
import { RUNTIMES, openLauncher, removeTempDirs, runtimeContainers, sleep, tempDir } from '../helpers.js';

after(removeTempDirs);

/**
 * A runtime that refuses its first `fails` deletes (any of them: batched or single), then execs the
 * real one; `<dir>/ok` ends the refusals, `<dir>/calls` lists the deletes it saw.
 */
function refusingRuntime(runtime: string, fails: number): { path: string; dir: string } {
  const dir = tempDir('salvo-rtr-');
  const path = join(dir, runtime);
  const script = `#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = delete ]; then
    n=$(flock "${dir}/lock" sh -c 'n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo $n > "$1"; echo $n' _ "${dir}/count")
    echo "$n $*" >> "${dir}/calls"
    if [ ! -e "${dir}/ok" ] && [ "$n" -le ${fails} ]; then echo "refusing delete $n" >&2; exit 1; fi
  fi
done
exec ${resolveRuntime(runtime).path} "$@"
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return { path, dir };
}

/** True when `check` holds; a throw is "not yet" (`runc list` fails while a delete removes a container under it). */
function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/** Polls until `check` holds (the retries run on their own backoff); fails after a minute. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !holds(check); waited += 20) {
    if (waited > 60_000) assert.fail(`still not ${what} after a minute`);
    await sleep(20);
  }
}

const calls = (dir: string): string[] => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return false;
  }
}

/**
 * Runs the containers to their exit, all reaped in one pass (so crun gets one batched delete): the
 * main thread, the reaper's, is held until every one of them is a zombie.
 */
async function finish(launcher: Launcher, ids: readonly string[]): Promise<void> {
  const procs = await Promise.all(ids.map((id) => launcher.start({ id, args: ['/bin/sleep', '1'] })));
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; !procs.every((p) => zombie(p.pid)); waited += 10) {
    if (waited > 60_000) assert.fail('the containers did not end');
    Atomics.wait(nap, 0, 0, 10);
  }
  for (const proc of procs) assert.equal((await proc.exited).exitCode, 0);
}

for (const runtime of RUNTIMES) {
  describe(`delete after an exit that fails (${runtime})`, { timeout: 300_000 }, () => {
    it('retries it until the runtime deletes the container, and shows nothing once it did', async () => {
      const wrapper = refusingRuntime(runtime, 3);
      const launcher = await openLauncher(wrapper.path);
      const ids = ['rtr-a', 'rtr-b'];
      try {
        await finish(launcher, ids);
        await until('deleted', () => runtimeContainers(launcher).length === 0 && ids.every((id) => launcher.get(id)?.cleanup === undefined));
        assert.ok(calls(wrapper.dir).length > 3, `retried: ${calls(wrapper.dir).join(' | ')}`);
        if (runtime === 'crun') {
          assert.ok(calls(wrapper.dir)[0]?.includes('--regex'), 'crun tried one batched delete first');
          assert.ok(
            calls(wrapper.dir).some((c) => !c.includes('--regex')),
            'and fell back to one delete per container',
          );
        }
        assert.deepEqual(
          launcher.list({ withCleanup: true }).filter((r) => r.cleanup !== undefined),
          [],
        );
      } finally {
        await launcher.close();
      }
    });

    it('shows a delete that keeps failing in the live view, gives up after its retries and leaves it to gc', async () => {
      const wrapper = refusingRuntime(runtime, 1_000);
      const launcher = await openLauncher(wrapper.path);
      const id = 'rtr-stuck';
      try {
        await finish(launcher, [id]);
        await until('refused once', () => launcher.get(id)?.cleanup !== undefined);
        const shown = launcher.list({ states: ['running'], withCleanup: true });
        assert.deepEqual(
          shown.map((r) => [r.id, r.state]),
          [[id, 'exited']],
          'ps lists it beside the running ones',
        );
        assert.match(formatRecords(shown), /exited, delete (pending|failed)/);
        await until('given up', () => launcher.get(id)?.cleanup?.state === 'failed');
        const cleanup = launcher.get(id)?.cleanup;
        assert.equal(cleanup?.attempts, 5, 'five tries, then gc');
        assert.match(cleanup?.error ?? '', /refusing delete/, 'the reason is kept');
        assert.deepEqual(runtimeContainers(launcher), [id]);
        writeFileSync(join(wrapper.dir, 'ok'), '');
        const gc = await launcher.gc();
        assert.deepEqual([gc.containersDeleted, gc.failed], [[id], []]);
        assert.deepEqual(runtimeContainers(launcher), []);
        assert.deepEqual(launcher.list({ withCleanup: true }), [], 'record and cleanup gone');
      } finally {
        writeFileSync(join(wrapper.dir, 'ok'), '');
        await launcher.close();
      }
    });
  });
}
