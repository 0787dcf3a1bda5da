// A client's fifo handoff without a round trip before the spawn: the server opens read ends of
// the process's fifos itself (never read) and holds them until the client says it holds its own.
// The runtime is spawned meanwhile; what the process writes first waits in the pipe for the
// client's reader, since a fifo with a reader open keeps its buffer.
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { SalvoError } from '../errors.js';

export interface FifoHold {
  /** The client names the hold by this in its POST handoff/<token>. */
  token: string;
  /**
   * Resolves once the client holds its read ends (the held ones are then let go); rejects when it
   * could not or went away first, and then the held ends stay until release().
   */
  acked: Promise<void>;
  /**
   * Once the start is over (failed, or its process killed): fails the hold if still open and lets
   * go of the read ends. Until then the runtime's blocking open of a write end must find a reader,
   * or it would block its worker thread for good.
   */
  release(): void;
}

export class FifoHolds {
  readonly #waiting = new Map<string, (error: SalvoError | null) => void>();

  /** Holds both fifos' read ends until `settle(token)` or `gone`. */
  hold(fifos: { stdout: string; stderr: string }, gone: AbortSignal): FifoHold {
    const token = randomUUID();
    const fds: number[] = [];
    try {
      for (const path of [fifos.stdout, fifos.stderr]) fds.push(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    } catch (error) {
      for (const fd of fds) closeSync(fd);
      throw error;
    }
    const letGo = (): void => {
      for (const fd of fds.splice(0)) closeSync(fd);
    };
    let settle!: (error: SalvoError | null) => void;
    const acked = new Promise<void>((resolve, reject) => {
      settle = (error) => {
        if (!this.#waiting.delete(token)) return;
        gone.removeEventListener('abort', onGone);
        if (error !== null) return reject(error); // held until release(): the spawn may still be opening
        letGo(); // the client's own read ends keep the fifos open from here
        resolve();
      };
    });
    acked.catch(() => undefined); // a start that failed first never waits for it
    const onGone = (): void => settle(new SalvoError('ERR_ABORTED', 'the client went away before it opened the fifos'));
    this.#waiting.set(token, settle);
    gone.addEventListener('abort', onGone);
    if (gone.aborted) onGone();
    const release = (): void => {
      settle(new SalvoError('ERR_ABORTED', 'the start ended before the client opened the fifos'));
      letGo();
    };
    return { token, acked, release };
  }

  /** The client's word on a hold: it opened its read ends, or could not (`error`). */
  settle(token: string, error?: string): void {
    const settle = this.#waiting.get(token);
    if (settle === undefined) throw new SalvoError('ERR_NOT_FOUND', `no fifo handoff ${token}`);
    settle(error === undefined ? null : new SalvoError('ERR_ABORTED', `the client could not open the fifos: ${error}`));
  }
}
