// `salvo ps` rows: containers by id, each init followed by its exec'd processes in the order they began.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecords } from '../../src/cli/commands/ps.js';
import type { ProcessRecord } from '../../src/types.js';

function record(seq: number, id: string, execId: string, extra: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    seq,
    id,
    execId,
    state: 'running',
    pid: 1000 + seq,
    pidStartTime: 1,
    runtimeExitCode: null,
    errorCode: null,
    errorMessage: null,
    exitCode: null,
    signal: null,
    rusage: null,
    subscribedAt: 0,
    startedAt: 0,
    exitedAt: null,
    batchId: null,
    labels: {},
    bundle: '/b',
    dir: `/s/${id}/${execId}`,
    ...extra,
  };
}

describe('formatRecords', () => {
  it("puts each container's exec'd processes under its init, indented, in the order they began", () => {
    const text = formatRecords(
      [
        record(5, 'web', 'exec-2'),
        record(1, 'web', 'init'),
        record(3, 'db', 'init'),
        record(4, 'web', 'debug', { state: 'exited', exitCode: 3, exitedAt: 500 }),
        record(6, 'db', 'exec-1', { state: 'failed', pid: null, errorCode: 'ERR_RUNTIME_FAILED' }),
      ],
      1000,
    );
    // Columns are two or more spaces apart: ID, EXEC, STATE, PID.
    const rows = text
      .split('\n')
      .slice(1)
      .map((line) =>
        line
          .trim()
          .split(/\s{2,}/)
          .slice(0, 4)
          .join(' '),
      );
    assert.deepEqual(rows, [
      'db init running 1003',
      '└ db exec-1 failed -',
      'web init running 1001',
      '└ web debug exited 1004',
      '└ web exec-2 running 1005',
    ]);
  });

  it("shows each run of an id as its own row with its seq, followed by the processes exec'd into that run", () => {
    const text = formatRecords(
      [
        record(7, 'job', 'init', { state: 'exited', exitCode: 0, exitedAt: 900 }),
        record(2, 'job', 'init', { state: 'exited', exitCode: 1, exitedAt: 500 }),
        record(3, 'job', 'exec-1', { state: 'exited', exitCode: 0, exitedAt: 400 }),
        record(8, 'job', 'exec-1'),
      ],
      1000,
    );
    const rows = text
      .split('\n')
      .slice(1)
      .map((line) => {
        const cells = line.trim().split(/\s{2,}/);
        return `${cells.slice(0, 3).join(' ')} run ${cells.at(-1) ?? ''}`;
      });
    assert.deepEqual(rows, ['job init exited run 2', '└ job exec-1 exited run 3', 'job init exited run 7', '└ job exec-1 running run 8']);
  });
});
