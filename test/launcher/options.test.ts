// Launcher options: defaults in one place, every bad value refused with a message naming the option.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SalvoError } from '../../src/errors.js';
import { normalizeOptions } from '../../src/launcher/options.js';
import { defaultStateDir } from '../../src/launcher/state-dir.js';
import type { LauncherOptions, Logger } from '../../src/types.js';

function refusedOption(options: unknown, option: string): void {
  assert.throws(
    () => normalizeOptions(options as LauncherOptions),
    (error: unknown) => {
      assert.ok(error instanceof SalvoError, `not a SalvoError: ${String(error)}`);
      assert.equal(error.code, 'ERR_INVALID_OPTION');
      assert.ok(error.message.includes(option), `message does not name ${option}: ${error.message}`);
      return true;
    },
    `${JSON.stringify(options)} was accepted`,
  );
}

describe('normalizeOptions', () => {
  it('fills every default when no options are given', () => {
    const normalized = normalizeOptions();
    const { logger, ...rest } = normalized;
    assert.deepEqual(rest, {
      stateDir: defaultStateDir(),
      runtime: 'runc',
      runtimeRoot: null,
      runtimeArgs: [],
      workers: 1,
      tasksPerWorker: 16,
      startTimeoutMs: 60_000,
      orphanGraceMs: 5_000,
      crunHybridWorkaround: 'auto',
      deleteAfterExit: true,
      spawner: 'native',
      bundleHooks: 'allow',
    });
    for (const level of ['debug', 'info', 'warn', 'error'] as const) assert.equal(typeof logger[level], 'function');
  });

  it('keeps given values and copies runtimeArgs', () => {
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    const runtimeArgs = ['--systemd-cgroup'];
    const normalized = normalizeOptions({
      stateDir: '/tmp/s',
      runtime: 'crun',
      runtimeRoot: '/tmp/r',
      runtimeArgs,
      workers: 64,
      tasksPerWorker: 1,
      startTimeoutMs: 0,
      orphanGraceMs: 250,
      crunHybridWorkaround: 'off',
      deleteAfterExit: false,
      spawner: 'execa',
      bundleHooks: 'refuse',
      logger,
    });
    assert.deepEqual(normalized, {
      stateDir: '/tmp/s',
      runtime: 'crun',
      runtimeRoot: '/tmp/r',
      runtimeArgs: ['--systemd-cgroup'],
      workers: 64,
      tasksPerWorker: 1,
      startTimeoutMs: 0,
      orphanGraceMs: 250,
      crunHybridWorkaround: 'off',
      deleteAfterExit: false,
      spawner: 'execa',
      bundleHooks: 'refuse',
      logger,
    });
    assert.notEqual(normalized.runtimeArgs, runtimeArgs);
  });

  it('refuses options that are not an object', () => {
    refusedOption(null, 'options');
    refusedOption('runc', 'options');
  });

  it('refuses an unknown option by name', () => {
    refusedOption({ worker: 2 }, 'worker');
  });

  it('refuses an empty or non-string stateDir', () => {
    refusedOption({ stateDir: '' }, 'stateDir');
    refusedOption({ stateDir: 7 }, 'stateDir');
  });

  it('refuses an empty or non-string runtime', () => {
    refusedOption({ runtime: '' }, 'runtime');
    refusedOption({ runtime: ['runc'] }, 'runtime');
  });

  it('refuses an empty runtimeRoot', () => {
    refusedOption({ runtimeRoot: '' }, 'runtimeRoot');
    refusedOption({ runtimeRoot: null }, 'runtimeRoot');
  });

  it('refuses runtimeArgs that are not an array of strings', () => {
    refusedOption({ runtimeArgs: '--debug' }, 'runtimeArgs');
    refusedOption({ runtimeArgs: ['--debug', 1] }, 'runtimeArgs');
  });

  it('refuses workers outside 1 to 64 or not an integer', () => {
    for (const workers of [0, -1, 65, 1.5, '2', Number.NaN]) refusedOption({ workers }, 'workers');
  });

  it('refuses tasksPerWorker outside 1 to 256 or not an integer', () => {
    for (const tasksPerWorker of [0, 257, 2.5, '4']) refusedOption({ tasksPerWorker }, 'tasksPerWorker');
  });

  it('refuses a negative, non-finite or non-number startTimeoutMs', () => {
    for (const startTimeoutMs of [-1, Number.POSITIVE_INFINITY, Number.NaN, '1000']) {
      refusedOption({ startTimeoutMs }, 'startTimeoutMs');
    }
  });

  it('refuses a spawner other than native or execa', () => {
    for (const spawner of ['fork', '', 1, true]) refusedOption({ spawner }, 'spawner');
  });

  it('refuses a negative or non-number orphanGraceMs', () => {
    for (const orphanGraceMs of [-5, '5000', null]) refusedOption({ orphanGraceMs }, 'orphanGraceMs');
  });

  it('refuses crunHybridWorkaround other than auto or off', () => {
    for (const crunHybridWorkaround of ['on', true, '']) refusedOption({ crunHybridWorkaround }, 'crunHybridWorkaround');
  });

  it('refuses a deleteAfterExit that is not a boolean', () => {
    for (const deleteAfterExit of ['yes', 1]) refusedOption({ deleteAfterExit }, 'deleteAfterExit');
  });

  it('shows the bad value in the message', () => {
    assert.throws(() => normalizeOptions({ workers: 0 }), /option workers must be an integer from 1 to 64, got 0/);
  });

  it('shows a non-finite bad value as itself, not as null', () => {
    assert.throws(() => normalizeOptions({ startTimeoutMs: Number.NaN }), /got NaN/);
    assert.throws(() => normalizeOptions({ orphanGraceMs: Number.POSITIVE_INFINITY }), /got Infinity/);
  });

  it('refuses a logger that lacks the four log methods', () => {
    refusedOption({ logger: 'debug' }, 'logger');
    refusedOption({ logger: { info() {} } }, 'logger');
  });
});
