// `salvo run --init/--no-init` and `init` in a batch job (issue 14 part 2): the real binary, runc.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Store } from '../../src/store/store.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RUNC = RUNTIMES.includes('runc') ? 'runc' : (RUNTIMES[0] ?? 'runc');

function salvo(stateDir: string, args: string[]): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  return execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, SALVO_RUNTIME: RUNC, NO_COLOR: '1' },
    timeout: 300_000,
  });
}

describe(`salvo run --init/--no-init and a batch job's init (${RUNC})`, { timeout: 300_000 }, () => {
  const stateDir = join(tempDir(), 'state');

  it('runs the command under the init by default and as pid 1 with --no-init', async () => {
    const init = await salvo(stateDir, ['run', '--id', 'pid-cli-init', '--', '/bin/sh', '-c', 'echo $$']);
    const noInit = await salvo(stateDir, ['run', '--id', 'pid-cli-noinit', '--no-init', '--', '/bin/sh', '-c', 'echo $$']);
    assert.equal(init.exitCode, 0, init.stderr);
    assert.notEqual(init.stdout.trim(), '1');
    assert.deepEqual([noInit.exitCode, noInit.stdout.trim()], [0, '1']);
  });

  it('takes init from a job line, and records the signal of a command killed under the init', async () => {
    const jobs = join(tempDir(), 'jobs.jsonl');
    const lines = [
      { id: 'pid-job-noinit', args: ['/bin/sh', '-c', 'kill -9 $$; exit 4'], init: false },
      { id: 'pid-job-term', args: ['/bin/sh', '-c', 'kill -TERM $$'] },
    ];
    writeFileSync(jobs, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const result = await salvo(stateDir, ['batch', jobs, '--no-progress']);
    assert.equal(result.exitCode, 1, result.stderr); // a job ended non-zero
    const store = Store.openReadOnly(join(stateDir, 'salvo.db'));
    assert.ok(store !== null);
    try {
      assert.deepEqual([store.get('pid-job-noinit')?.exitCode, store.get('pid-job-noinit')?.signal], [4, null], 'pid 1 ignored its own SIGKILL');
      assert.deepEqual([store.get('pid-job-term')?.exitCode, store.get('pid-job-term')?.signal], [143, 'SIGTERM']);
    } finally {
      store.close();
    }
  });
});
