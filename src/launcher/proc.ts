// A started process as `start` and `exec` return it: a leaf that batch, exec and the Launcher share.
import type { Socket } from 'node:net';
import type { Terminal } from '../io/terminal.js';
import type { Exit, LaunchTimings } from '../types.js';

/** A started process: resolves from `start` once the runtime reports it running. */
export interface Proc {
  id: string;
  execId: string;
  pid: number;
  /** The process directory (DESIGN §4). */
  dir: string;
  timings: LaunchTimings;
  /** Resolves once the exit is committed, exitStatus written and the exit fifo closed. Never rejects. */
  exited: Promise<Exit>;
  /** With stdio 'fifo': the process's output as it is written. */
  stdout: Socket | null;
  stderr: Socket | null;
  /** With terminal: true: the pty (read and write it; destroy it if you do not read it) and its size. */
  terminal: Terminal | null;
}
