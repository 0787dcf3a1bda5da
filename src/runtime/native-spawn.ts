// One runtime command through the addon's vfork spawner (native/spawn.c, DESIGN §5): no fork of
// the launcher, no salvo-exec in front. The exit comes back through the child's pidfd in this
// thread's own event loop; a timeout kills through pidfd_send_signal.
import { constants } from 'node:os';
import { native, type SpawnHandle } from '../native.js';
import { startTimer, type Timer } from '../io/timer.js';
import type { SpawnOutcome } from './spawn-outcome.js';

const KIND_EXITED = 0;
const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

let environmentList: string[] | undefined;

/** NAME=value strings of `environment`, made once per thread (the runtime's environment never changes). */
function environmentStrings(environment: Record<string, string>): string[] {
  environmentList ??= Object.entries(environment).map(([key, value]) => `${key}=${value}`);
  return environmentList;
}

/**
 * Spawns `file args` with exactly the given fds (stdin -1: /dev/null) and waits for its exit. A
 * spawn that fails (ENOENT, EACCES, EMFILE, EAGAIN…) is an outcome with the errno code and the path.
 */
export function spawnNativeOnce(
  file: string,
  args: readonly string[],
  environment: Record<string, string>,
  stdio: { stdin: number; stdout: number; stderr: number },
  mountNamespace: string | null,
  timeoutMs: number,
): Promise<SpawnOutcome> {
  return new Promise((resolve) => {
    let timer: Timer | undefined;
    let timedOut = false;
    let spawned: [number, SpawnHandle];
    try {
      spawned = native().spawn(
        file,
        args,
        environmentStrings(environment),
        [stdio.stdin, stdio.stdout, stdio.stderr],
        mountNamespace,
        (kind, value) => {
          timer?.clear();
          resolve({
            pid: spawned[0],
            exitCode: kind === KIND_EXITED ? value : null,
            signal: kind === KIND_EXITED ? null : (SIGNAL_NAMES.get(value) ?? String(value)),
            timedOut,
            spawnError: null,
          });
        },
      );
    } catch (error) {
      const cause = error as NodeJS.ErrnoException;
      resolve({ pid: null, exitCode: null, signal: null, timedOut: false, spawnError: { code: cause.code ?? 'ESPAWN', message: cause.message } });
      return;
    }
    if (timeoutMs > 0) {
      // The one timer helper: a start timeout of 2^31 ms or more must not fire at once.
      timer = startTimer(
        () => {
          timedOut = native().spawnSignal(spawned[1], constants.signals.SIGKILL);
        },
        timeoutMs,
        { unref: false },
      );
    }
  });
}
