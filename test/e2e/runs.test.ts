// Logs belong to a record, not to an id (DESIGN §4): each run of an id keeps its own process
// directory, `salvo logs` shows the latest and `--run N` an earlier one, a batch's JSON keeps
// pointing at its own run's output, and gc removes each run's directory with its record.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Launcher, type JobResult, type ProcessRecord } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, removeTempDirs, runDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function salvo(stateDir: string, runtime: string, args: string[]): Promise<{ stdout: string; stderr: string; exitCode?: number }> {
  return execa(process.execPath, [MAIN, '--runtime', runtime, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, NO_COLOR: '1' },
    timeout: 300_000,
  });
}

/** One job through `salvo batch --json`; its result. */
async function batchOne(stateDir: string, runtime: string, job: object): Promise<JobResult> {
  const jobs = join(stateDir, '..', `jobs-${Date.now()}.jsonl`);
  writeFileSync(jobs, `${JSON.stringify(job)}\n`);
  const result = await salvo(stateDir, runtime, ['batch', jobs, '--json', '--no-progress']);
  assert.equal(result.exitCode, 0, result.stderr);
  const [job0] = (JSON.parse(result.stdout) as { jobs: JobResult[] }).jobs;
  assert.ok(job0 !== undefined);
  return job0;
}

describe('runs of one id', { timeout: 600_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`keeps each run's logs: logs shows the latest, --run an earlier one, a batch's JSON its own, and gc removes both (${runtime})`, async () => {
      const state = join(tempDir(), 'state');
      const id = `runs-${runtime}`;
      const job = (word: string): object => ({ id, args: ['/bin/sh', '-c', `echo ${word}; echo ${word}-err >&2`] });
      after(() => salvo(state, runtime, ['serve', '--stop']));
      const first = await batchOne(state, runtime, job('first'));
      const second = await batchOne(state, runtime, job('second'));
      assert.notEqual(first.stdoutPath, second.stdoutPath, 'each run has its own files');
      assert.equal(readFileSync(first.stdoutPath as string, 'utf8'), 'first\n', "the first batch's JSON still points at the first output");
      assert.equal(readFileSync(first.stderrPath as string, 'utf8'), 'first-err\n');
      assert.equal(readFileSync(second.stdoutPath as string, 'utf8'), 'second\n');

      const ps = await salvo(state, runtime, ['ps', '--all', '--json']);
      const runs = (JSON.parse(ps.stdout) as ProcessRecord[]).filter((r) => r.id === id).map((r) => r.seq);
      assert.equal(runs.length, 2);
      const latest = await salvo(state, runtime, ['logs', id]);
      assert.deepEqual([latest.stdout, latest.stderr], ['second', 'second-err']);
      const earlier = await salvo(state, runtime, ['logs', id, '--run', String(runs[0])]);
      assert.deepEqual([earlier.stdout, earlier.stderr, earlier.exitCode], ['first', 'first-err', 0]);
      const missing = await salvo(state, runtime, ['logs', id, '--run', '999999']);
      assert.equal(missing.exitCode, 2, 'an unknown run is a usage error, as an unknown id');
      assert.match(missing.stderr, new RegExp(`no run 999999 of container ${id} .*\\(its runs: ${runs.join(', ')}\\)`));

      const gc = await salvo(state, runtime, ['gc']);
      assert.equal(gc.exitCode, 0, gc.stderr);
      assert.match(gc.stdout, /removed 2 process directories, pruned 2 records/);
      assert.ok(!existsSync(first.stdoutPath as string) && !existsSync(second.stdoutPath as string), "both runs' files are gone");
      assert.ok(!existsSync(join(state, 'containers', id)), 'and the container directory, once empty');
      const left = await salvo(state, runtime, ['ps', '--all', '--json']);
      assert.deepEqual(
        (JSON.parse(left.stdout) as ProcessRecord[]).filter((r) => r.id === id),
        [],
      );
    });

    it(`starts an id again whose earlier run used the old layout (containers/<id>/init), and gc removes both (${runtime})`, async () => {
      const stateDir = join(tempDir(), 'state');
      const id = `runs-old-${runtime}`;
      await (await Launcher.open({ stateDir, runtime })).close();
      // What a salvo before per-run directories left: a finished record whose dir is containers/<id>/init.
      const oldDir = join(stateDir, 'containers', id, 'init');
      mkdirSync(oldDir, { recursive: true });
      writeFileSync(join(oldDir, 'stdout.log'), 'old\n');
      const store = Store.open(join(stateDir, 'salvo.db'), { pid: 4_000_000, pidStartTime: 1, bootId: null });
      const seq = store.subscribe({ id, execId: 'init', dir: oldDir, bundle: null, batchId: null, labels: null, at: Date.now() - 1000 });
      store.recordExits([{ seq, state: 'exited', exitCode: 0, signal: null, userUs: null, systemUs: null, maxRssKb: null, at: Date.now() - 500 }]);
      store.close();

      const launcher = await Launcher.open({ stateDir, runtime });
      try {
        assert.equal(launcher.get(id)?.dir, oldDir);
        const proc = await launcher.start({ id, args: ['/bin/sh', '-c', 'echo new'] });
        assert.equal((await proc.exited).exitCode, 0);
        assert.notEqual(proc.dir, oldDir);
        assert.deepEqual(runDirs(stateDir, id), [proc.dir]);
        assert.equal(readFileSync(join(proc.dir, 'stdout.log'), 'utf8'), 'new\n');
        assert.equal(readFileSync(join(oldDir, 'stdout.log'), 'utf8'), 'old\n', 'the old run keeps its output');
        assert.equal(launcher.get(id)?.dir, proc.dir, 'the newest record is the new run');
        const gc = await launcher.gc();
        assert.deepEqual([gc.directoriesRemoved, gc.recordsPruned], [2, 2]);
        assert.ok(!existsSync(join(stateDir, 'containers', id)));
        assert.deepEqual(launcher.list({ id }), []);
      } finally {
        await launcher.close();
      }
    });
  }
});
