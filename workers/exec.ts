// The worker half of an exec: write process.json from the container's config, run
// `exec -d --pid-file … --process …`, read the pid, or report the runtime's error.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveProcess } from '../src/bundle/process-spec.js';
import { writeJsonFile } from '../src/bundle/spec.js';
import { loadBundleConfig } from '../src/bundle/spec.js';
import { closeFds, openRuntimeStdio, prepareProcessDir, processPaths } from '../src/io/process-dir.js';
import { readProcStat } from '../src/io/procfs.js';
import { execArgs } from '../src/runtime/argv.js';
import { describeFailure, invokeRuntime } from '../src/runtime/invoke.js';
import type { ExecTask, PlainError, StartResult } from '../src/types.js';
import { plainError } from './start.js';

const now = (): number => performance.timeOrigin + performance.now();

export async function execInContainer(task: ExecTask): Promise<StartResult> {
  const began = now();
  const timings = { queuedMs: Math.max(0, began - task.queuedAt), prepareMs: 0, runtimeMs: 0, waitedMs: 0 };
  let spawnedAt: number | null = null;
  const failed = (error: PlainError, runtimeExitCode: number | null = null): StartResult => ({ ok: false, runtimeExitCode, error, timings, spawnedAt });

  let paths;
  let fds;
  try {
    // The init's derived config.json (args/env overridden at start) is the container's config.
    const initConfig = join(task.initDir, 'config.json');
    const configDir = existsSync(initConfig) ? task.initDir : task.bundle;
    const process = deriveProcess(loadBundleConfig(configDir), join(configDir, 'config.json'), task.override);
    paths = task.prepared ? processPaths(task.dir) : prepareProcessDir(task.dir, task.stdio);
    writeJsonFile(paths.processJson, process);
    fds = openRuntimeStdio(paths, task.stdio);
  } catch (error) {
    timings.prepareMs = now() - began;
    return failed(plainError(error));
  }
  const spawned = now();
  spawnedAt = spawned;
  timings.prepareMs = spawned - began;

  const args = execArgs(task.id, {
    pidFile: paths.pid,
    processFile: paths.processJson,
    ...(task.consoleSocket === null ? {} : { consoleSocket: task.consoleSocket }),
  });
  let result;
  try {
    result = await invokeRuntime(task.runtime, paths.log, args, {
      stdio: { stdin: fds.stdin, stdout: fds.stdout, stderr: fds.stderr },
      timeoutMs: task.timeoutMs,
    });
  } finally {
    closeFds([fds.stdin, fds.stdout, fds.stderr]);
  }
  timings.runtimeMs = now() - spawned;

  if (result.timedOut) {
    return failed({ code: 'ERR_RUNTIME_HUNG', message: `runtime exec did not return within ${task.timeoutMs} ms and was killed` }, result.exitCode);
  }
  if (result.exitCode !== 0) {
    return failed(await describeFailure(paths.log, result, task.stdio === 'log' ? paths.stderrLog : undefined), result.exitCode);
  }
  const pid = Number.parseInt(await readFile(paths.pid, 'utf8').catch(() => ''), 10);
  const stat = Number.isInteger(pid) && pid > 0 ? readProcStat(pid) : null;
  if (stat === null) {
    return failed({ code: 'ERR_RUNTIME_FAILED', message: `the runtime reported success but ${paths.pid} holds no live pid` }, 0);
  }
  return { ok: true, pid, pidStartTime: stat.startTime, timings, spawnedAt: spawned };
}
