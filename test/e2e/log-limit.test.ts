// The log limit (issue 14 §6): a job that prints far more than its limit into a small tmpfs state
// directory does not fill it; its log ends as the real last output under a marker, through the CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { JobResult } from '../../src/index.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MiB = 1024 * 1024;
const PRINTED = 50_000_000; // bytes of `y\n`, then one last line
const LAST = 'the-last-line\n';

function salvo(stateDir: string, runtime: string, args: string[]): Promise<{ stdout: string; stderr: string; exitCode?: number }> {
  return execa(process.execPath, [MAIN, '--runtime', runtime, ...args], {
    reject: false,
    env: { SALVO_STATE_DIR: stateDir, NO_COLOR: '1' },
    timeout: 300_000,
    maxBuffer: 8 * MiB,
  });
}

describe('the log limit', { timeout: 600_000 }, () => {
  for (const runtime of RUNTIMES) {
    it(`keeps 50 MB of output to its 1 MiB tail in a 12 MB tmpfs state dir, with a marker salvo logs shows (${runtime})`, async () => {
      const root = tempDir();
      const state = join(root, 'state');
      mkdirSync(state);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0700', 'tmpfs', state]);
      try {
        const id = `cap-${runtime}`;
        const jobs = join(root, 'jobs.jsonl');
        writeFileSync(jobs, `${JSON.stringify({ id, args: ['/bin/sh', '-c', `yes | head -c ${PRINTED}; printf ${LAST.trim()}'\\n'`] })}\n`);
        const batch = await salvo(state, runtime, [
          'batch',
          jobs,
          '--log-limit',
          '1m',
          '--json',
          '--no-progress',
          '--junit',
          join(root, 'report.xml'),
        ]);
        assert.equal(batch.exitCode, 0, batch.stderr);
        const [result] = (JSON.parse(batch.stdout) as { jobs: JobResult[] }).jobs;
        assert.equal(result?.exitCode, 0);
        const log = readFileSync(result?.stdoutPath as string);
        const newline = log.indexOf(10);
        const marker = log.subarray(0, newline + 1).toString();
        const kept = log.subarray(newline + 1);
        assert.match(marker, /^\[salvo: (\d+) bytes of output were cut here \(log limit 1048576 bytes\); the last lines follow\]\n$/);
        assert.ok(kept.length <= MiB, `the tail is within the limit (${kept.length})`);
        assert.ok(kept.toString().endsWith(`y\ny\n${LAST}`), 'and is the real last output');
        assert.ok(kept.toString().startsWith('y\n'), 'from a line boundary');
        // Every byte printed is accounted for: none was lost to a full disk.
        assert.equal(Number(/^\[salvo: (\d+)/.exec(marker)?.[1]) + kept.length, PRINTED + LAST.length);
        assert.ok(statSync(result?.stdoutPath as string).blocks * 512 <= 2 * MiB, 'its blocks are the tail');

        assert.ok(readFileSync(join(root, 'report.xml'), 'utf8').includes(marker), 'the JUnit report shows the marker too');
        const logs = await salvo(state, runtime, ['logs', id]);
        assert.equal(logs.exitCode, 0, logs.stderr);
        assert.equal(`${logs.stdout.split('\n')[0]}\n`, marker, 'salvo logs shows the marker first');
        assert.ok(logs.stdout.endsWith(LAST.trim()));
      } finally {
        await salvo(state, runtime, ['serve', '--stop']);
        execFileSync('umount', ['-l', state]);
      }
    });
  }

  it('cuts the copy a foreground salvo run keeps of what it streams to its tail, after streaming it whole', async () => {
    const runtime = RUNTIMES[0] ?? 'runc';
    const state = join(tempDir(), 'state');
    try {
      const run = await salvo(state, runtime, [
        'run',
        '--name',
        'cap-run',
        '--log-limit',
        '1m',
        '--',
        '/bin/sh',
        '-c',
        'yes | head -c 3000000; echo end',
      ]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout.length, 3_000_003, 'the live output is whole');
      const logs = await salvo(state, runtime, ['logs', 'cap-run']);
      const [marker] = logs.stdout.split('\n');
      const cut = Number(/^\[salvo: (\d+) bytes of output were cut here \(log limit 1048576 bytes\)/.exec(marker ?? '')?.[1]);
      const kept = logs.stdout.length + 1 - (marker ?? '').length - 1; // the tail, its final newline included
      assert.equal(cut + kept, 3_000_004);
      assert.ok(kept <= MiB && logs.stdout.endsWith('y\nend'));
    } finally {
      await salvo(state, runtime, ['serve', '--stop']);
    }
  });
});
