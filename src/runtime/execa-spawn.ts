// The execa spawner (DESIGN §5): the cold commands (kill, state, pause, checkpoint…) and the
// fallback of the hot path. Imported by a worker's entry at start, so that invoke.ts's import of
// it is a module-cache hit: a first import under EMFILE would fail, and Node keeps that failure.
import { execa } from 'execa';
import { startTimer, type Timer } from '../io/timer.js';
import { notSpawned, runtimeEnvironment, type SpawnOutcome } from './spawn-outcome.js';

// execa hands any integer fd straight to child_process; its types only list 0-9.
const fdOption = (fd: number): 3 => fd as 3;

/** stdin -1 means none ('ignore'). A spawn that fails (EMFILE, ENOENT…) is an outcome, never a throw. */
export async function spawnOnce(
  file: string,
  args: string[],
  stdio: { stdin: number; stdout: number; stderr: number },
  timeoutMs: number,
): Promise<SpawnOutcome> {
  let result;
  let pid: number | null = null;
  let timedOut = false;
  let timer: Timer | null = null;
  try {
    const subprocess = execa(file, args, {
      env: runtimeEnvironment(),
      extendEnv: false,
      reject: false,
      buffer: false,
      stdin: stdio.stdin < 0 ? 'ignore' : fdOption(stdio.stdin),
      stdout: fdOption(stdio.stdout),
      stderr: fdOption(stdio.stderr),
    });
    pid = subprocess.pid ?? null;
    // Our timer, not execa's timeout: Node fires a delay of 2^31 ms or more at once.
    if (timeoutMs > 0) {
      timer = startTimer(() => {
        timedOut = true;
        subprocess.kill('SIGKILL');
      }, timeoutMs);
    }
    result = await subprocess;
  } catch (error) {
    // execa 9 throws a TypeError ("subprocess.stdio is not iterable") when the spawn itself fails,
    // and Node's 'error' event, which says why (EMFILE…), comes a tick later to nobody: the
    // thread's handler hands it to noteUnheardSpawnError. Wait for it and report that.
    if (!(error instanceof TypeError)) return notSpawned(error);
    await new Promise((resolve) => setImmediate(resolve));
    const queue = unheardSpawnErrors.get(file);
    const unheard = queue?.shift();
    if (queue?.length === 0) unheardSpawnErrors.delete(file);
    return notSpawned(unheard ?? error);
  } finally {
    timer?.clear();
  }
  if (result.exitCode === undefined && result.signal === undefined) return notSpawned(result.cause ?? new Error('the runtime could not be spawned'));
  return { pid, exitCode: result.exitCode ?? null, signal: result.signal ?? null, timedOut, spawnError: null };
}

// Per thread: spawn 'error's that nobody listened to, by file, in order (see spawnOnce).
const unheardSpawnErrors = new Map<string, NodeJS.ErrnoException[]>();

/**
 * For a thread's 'uncaughtException' handler: true (and kept for spawnOnce) when the error is a
 * failed runtime spawn's, which execa left unheard; false for anything else.
 */
export function noteUnheardSpawnError(error: NodeJS.ErrnoException): boolean {
  if (typeof error.syscall !== 'string' || !error.syscall.startsWith('spawn ') || typeof error.path !== 'string') return false;
  const queue = unheardSpawnErrors.get(error.path) ?? [];
  queue.push(error);
  unheardSpawnErrors.set(error.path, queue);
  return true;
}
