// A batch of 500 (and 200 execs into one container) under a lowered RLIMIT_NOFILE, and under a tight pids cgroup (root ignores
// RLIMIT_NPROC), finishes with every exit right: launches wait and retry (EMFILE, EAGAIN)
// instead of failing, and their results say how long they waited.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';
import type { LimitedBatchSummary } from './limited-summary.js';

after(removeTempDirs);

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./limited-batch.js', import.meta.url));
const EXEC_CHILD = fileURLToPath(new URL('./limited-exec.js', import.meta.url));
const EXEC_COUNT = Number(process.env.SALVO_LIMITS_EXEC_COUNT ?? 200);
const COUNT = Number(process.env.SALVO_LIMITS_COUNT ?? 500);
const PIDS_ROOT = '/sys/fs/cgroup/pids';
// runc's Go runtime takes several threads per call; crun is one process: both get only a few calls' worth.
const PIDS_HEADROOM: Record<string, number> = { runc: 48, crun: 10 };
// Free fds left to the batch: enough for one launch (stdio, spawn, pidfd, exit fifo), not for 8 at once.
const FD_HEADROOM = 16;

async function limitedBatch(command: string[], args: string[], child = CHILD): Promise<LimitedBatchSummary> {
  const { stdout, stderr } = await run(command[0] as string, [...command.slice(1), process.execPath, child, ...args], {
    maxBuffer: 16 << 20,
    timeout: 600_000,
  });
  const summary = JSON.parse(stdout.trim().split('\n').pop() as string) as LimitedBatchSummary;
  if (summary.notRight.length > 0) process.stderr.write(`# launcher warnings:\n${stderr.split('\n').slice(-40).join('\n')}\n`);
  return summary;
}

function assertAllRight(summary: LimitedBatchSummary, count = COUNT): void {
  assert.deepEqual(summary.notRight.slice(0, 10), [], `${summary.notRight.length} jobs did not exit right`);
  assert.equal(summary.results, count);
  assert.equal(summary.exitedRight, count);
  assert.ok(summary.waitedJobs > 0, 'the limit was reached: some launches waited (else this test proves nothing)');
  assert.ok(summary.waitedMsMax > 0 && summary.waitedMsTotal >= summary.waitedMsMax);
  assert.equal(summary.leftInRuntime, 0);
}

for (const runtime of RUNTIMES) {
  describe(`resource limits (${runtime})`, { timeout: 900_000 }, () => {
    it(`finishes ${COUNT} jobs with RLIMIT_NOFILE 256 and ${FD_HEADROOM} fds left free, waiting for fds instead of failing`, async () => {
      // Dummy fds take all but FD_HEADROOM of the limit once the launcher is open: 8 starts in flight need more.
      const summary = await limitedBatch(
        ['prlimit', '--nofile=256:256'],
        [runtime, join(tempDir(), 'state'), String(COUNT), '0', 'fds', String(FD_HEADROOM)],
      );
      process.stderr.write(
        `# nofile 256 ${runtime}: the open launcher used ${summary.fdsInUse} fds, ${summary.fdsFree} left free; ${summary.waitedJobs} launches waited, ${Math.round(summary.waitedMsTotal)} ms in all, at most ${Math.round(summary.waitedMsMax)} ms\n`,
      );
      assert.equal(summary.nofileLimit, 256);
      assert.equal(summary.fdsFree, FD_HEADROOM);
      assertAllRight(summary);
    });

    it(`finishes ${EXEC_COUNT} execs into one container with RLIMIT_NOFILE 128 and ${FD_HEADROOM} fds left free, waiting for fds instead of failing`, async () => {
      // Dummy fds take all but FD_HEADROOM of the limit once the container runs: 200 execs at once need more.
      const summary = await limitedBatch(
        ['prlimit', '--nofile=128:128'],
        [runtime, join(tempDir(), 'state'), String(EXEC_COUNT), String(FD_HEADROOM)],
        EXEC_CHILD,
      );
      process.stderr.write(
        `# nofile 128 ${runtime} exec: ${summary.fdsFree} fds left free; ${summary.waitedJobs} execs waited, ${Math.round(summary.waitedMsTotal)} ms in all, at most ${Math.round(summary.waitedMsMax)} ms\n`,
      );
      assert.equal(summary.nofileLimit, 128);
      assert.equal(summary.fdsFree, FD_HEADROOM);
      assertAllRight(summary, EXEC_COUNT);
    });

    it(
      `finishes ${COUNT} jobs in a pids cgroup with a few processes of headroom, waiting for EAGAIN to pass`,
      { skip: !existsSync(PIDS_ROOT) && 'no cgroup v1 pids controller' },
      async () => {
        const cgroup = join(PIDS_ROOT, `salvo-test-${process.pid}-${runtime}`);
        mkdirSync(cgroup);
        try {
          const summary = await limitedBatch(
            ['env'],
            [runtime, join(tempDir(), 'state'), String(COUNT), '0', 'pids', cgroup, String(PIDS_HEADROOM[runtime] ?? 16)],
          );
          const limited = Number(/^max (\d+)/m.exec(readFileSync(join(cgroup, 'pids.events'), 'utf8'))?.[1] ?? 0);
          process.stderr.write(
            `# pids.max ${summary.pidsMax} ${runtime}: forks refused ${limited} times, ${summary.waitedJobs} launches waited, ${Math.round(summary.waitedMsTotal)} ms in all\n`,
          );
          assert.ok(limited > 0, 'forks were refused by pids.max');
          assertAllRight(summary);
        } finally {
          // Container cgroups nest under the launcher's; runtime delete removed them, so these are empty.
          for (const child of readdirSync(cgroup, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(cgroup, child.name));
          rmdirSync(cgroup);
        }
      },
    );
  });
}
