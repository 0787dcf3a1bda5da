// `salvo kill ID [SIGNAL]`: a signal through the runtime (`runtime kill`), beside a running launcher,
// which records the exit; the runtime and --root are those of the launcher that started it.
import { join } from 'node:path';
import { Command } from 'commander';
import { SalvoError, errorFromPlain } from '../../errors.js';
import { runtimeInvocationFor } from '../../launcher/runtime-setup.js';
import { normalizeSignal, validateId } from '../../launcher/validate.js';
import { killArgs } from '../../runtime/argv.js';
import { HybridCgroupNamespace, hostHasHybridControllers } from '../../runtime/hybrid-cgroup.js';
import { describeFailure, invokeRuntime } from '../../runtime/invoke.js';
import { INIT_EXEC_ID } from '../../io/process-dir.js';
import { contextFrom, withRecord, type GlobalOptions } from '../context.js';

export function killCommand(globals: () => GlobalOptions): Command {
  return new Command('kill')
    .summary('send a signal to a running container (default SIGTERM)')
    .argument('<id>', 'container id')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'signal every process of the container, not only its init')
    .addHelpText('after', '\nExamples:\n  $ salvo kill job-17\n  $ salvo kill job-17 KILL --all')
    .action(async (id: string, signal: string, options: { all?: boolean }) => {
      validateId(id, 'container id');
      const sig = normalizeSignal(signal.toUpperCase());
      const context = contextFrom(globals());
      const { runtime, dir } = withRecord(context, id, INIT_EXEC_ID, (record, store) => {
        if (record.state !== 'running') throw new SalvoError('ERR_CONTAINER_STOPPED', `container ${id} is not running (${record.state})`);
        return { runtime: store.runtimeFor(id), dir: record.dir };
      });
      if (runtime === null) throw new SalvoError('ERR_NOT_FOUND', `no runtime is recorded for container ${id}`);
      await killThroughRuntime(runtime, join(dir, 'kill.log.json'), killArgs(id, sig, options), context.stateDir);
    });
}

async function killThroughRuntime(runtime: { path: string; root: string }, logFile: string, args: string[], stateDir: string): Promise<void> {
  // crun on a hybrid cgroup host needs the same mount namespace as the launcher's (§12).
  const namespace = runtime.path.endsWith('crun') && hostHasHybridControllers() ? await HybridCgroupNamespace.start(stateDir) : null;
  try {
    const invocation = runtimeInvocationFor(runtime.path, runtime.root, namespace?.mountNamespace ?? null);
    const result = await invokeRuntime(invocation, logFile, args, { timeoutMs: 30_000 });
    if (result.exitCode !== 0) throw errorFromPlain(await describeFailure(logFile, result), result.exitCode);
  } finally {
    await namespace?.close();
  }
}
