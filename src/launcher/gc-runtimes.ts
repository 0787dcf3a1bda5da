// The runtimes gc works on: the launcher's own, and every other binary and --root a launcher on
// this state directory drove (the store's `launcher` table), so that `salvo gc` with runc does
// not leave crun's containers behind. Each other one is set up as a launcher would set it up.
import { existsSync } from 'node:fs';
import { listArgs } from '../runtime/argv.js';
import type { Logger } from '../types.js';
import type { GcRuntime } from './gc.js';
import type { Lifecycle } from './lifecycle.js';
import type { NormalizedOptions } from './options.js';
import { setupRuntime, type RuntimeSetup } from './runtime-setup.js';

export interface GcRuntimes {
  runtimes: GcRuntime[];
  /** Ends what the other runtimes' setup started (crun's mount namespace holder). */
  close: () => Promise<void>;
}

export async function gcRuntimes(lifecycle: Lifecycle, options: NormalizedOptions, logger: Logger): Promise<GcRuntimes> {
  const own = lifecycle.runtime;
  const setups: RuntimeSetup[] = [];
  for (const { path, root } of lifecycle.store.runtimes()) {
    // A root that no longer exists holds no container; a binary that went cannot be asked.
    if ((path === own.path && root === own.invocation.root) || !existsSync(root) || !existsSync(path)) continue;
    try {
      // Its own arguments and spawner are not known: the plain binary, as the CLI beside a launcher calls it.
      setups.push(await setupRuntime({ ...options, runtime: path, runtimeRoot: root, runtimeArgs: [], spawner: 'execa' }, lifecycle.pool));
    } catch (error) {
      logger.warn({ err: error, runtime: path, root }, 'gc cannot use a runtime an earlier launcher drove: its containers stay');
    }
  }
  const runtimes = [own, ...setups].map((setup): GcRuntime => ({
    list: async () => {
      const result = await lifecycle.runtimeCommand('', listArgs(), 'normal', setup.invocation);
      const parsed = JSON.parse(result.stdout.trim() || 'null') as { id: string; status: string }[] | null;
      return (parsed ?? []).map(({ id, status }) => ({ id, status }));
    },
    command: (id, args) => lifecycle.runtimeCommand(id, args, 'normal', setup.invocation),
  }));
  return { runtimes, close: async () => void (await Promise.allSettled(setups.map((s) => s.namespace?.close()))) };
}
