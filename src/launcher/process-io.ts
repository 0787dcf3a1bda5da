// The main thread's side of a process's IO, shared by start and exec: fifo readers for streamed
// output and the console socket for a terminal. Both exist before the runtime is spawned, so the
// process directory is made first (a worker's prepare would remove them).
import type { Socket } from 'node:net';
import { SalvoError, errorFromPlain } from '../errors.js';
import { listenConsoleSocket, type ConsoleSocket } from '../io/console-socket.js';
import { openFifoReader, type FifoReader } from '../io/fifo.js';
import { processPaths } from '../io/process-dir.js';
import { terminalFromMaster, type Terminal } from '../io/terminal.js';
import type { StdioMode } from '../types.js';
import type { LiveProcess } from './exit-registry.js';
import type { RuntimePool } from './pool.js';

export interface ProcessIo {
  /** The worker must not prepare (remove and remake) the directory again. */
  prepared: boolean;
  readers: { stdout: FifoReader; stderr: FifoReader } | null;
  console: ConsoleSocket | null;
}

export async function openProcessIo(
  pool: RuntimePool,
  dir: string,
  stdio: StdioMode,
  terminal: boolean,
  timeoutMs: number,
  signal: AbortSignal | null,
): Promise<ProcessIo> {
  const io: ProcessIo = { prepared: false, readers: null, console: null };
  if (stdio !== 'fifo' && !terminal) return io;
  const prepared = await pool.run('prepare', { dir, bundle: null, override: null, stdio }, 'normal', signal);
  if (!prepared.ok) throw errorFromPlain(prepared.error);
  io.prepared = true;
  const paths = processPaths(dir);
  try {
    if (stdio === 'fifo') io.readers = { stdout: openFifoReader(paths.stdoutFifo), stderr: openFifoReader(paths.stderrFifo) };
    if (terminal) io.console = await listenConsoleSocket(paths.consoleSocket, timeoutMs);
  } catch (error) {
    closeProcessIo(io);
    throw error;
  }
  return io;
}

/** After the runtime returned: the process holds its own ends now (or never will). */
export function releaseKeepAlive(io: ProcessIo): void {
  io.readers?.stdout.release();
  io.readers?.stderr.release();
}

/** The start or exec failed: nothing of its IO stays open. */
export function closeProcessIo(io: ProcessIo): void {
  releaseKeepAlive(io);
  io.readers?.stdout.stream.destroy();
  io.readers?.stderr.stream.destroy();
  io.console?.close();
}

/**
 * The terminal the runtime sent (before it returned success), or null without one. Should it
 * not come, the process runs without the terminal it was started for: it is killed (its pid is
 * tracked and unreaped, so it cannot have been reused) and the error carries its `exited`.
 */
export async function attachTerminal(io: ProcessIo, live: LiveProcess): Promise<Terminal | null> {
  if (io.console === null) return null;
  try {
    return terminalFromMaster(await io.console.take());
  } catch (error) {
    try {
      process.kill(live.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    throw new SalvoError('ERR_RUNTIME_FAILED', `${live.id}/${live.execId} started without its terminal: ${(error as Error).message}`, {
      cause: error,
      details: { id: live.id, execId: live.execId, exited: live.exited },
    });
  } finally {
    io.console.close();
  }
}

export function outputStreams(io: ProcessIo): { stdout: Socket | null; stderr: Socket | null } {
  return { stdout: io.readers?.stdout.stream ?? null, stderr: io.readers?.stderr.stream ?? null };
}
