// Attaching the user's terminal to a process's pty (`salvo run -t`, `salvo exec -t`): raw mode
// on a tty stdin, bytes both ways, the window size on start and SIGWINCH, the tty restored after.
import type { Terminal } from '../io/terminal.js';
import type { Exit } from '../types.js';

// A process that leaves a background child holding the pty never ends the stream: stop waiting.
const DRAIN_AFTER_EXIT_MS = 1000;

/** The user's window size, for a process that should start with it (undefined: not a sized tty). */
export function userTerminalSize(): { cols: number; rows: number } | undefined {
  const { columns, rows } = process.stdout;
  return process.stdout.isTTY === true && columns > 0 && rows > 0 ? { cols: columns, rows } : undefined;
}

export async function attachTerminal(terminal: Terminal, exited: Promise<Exit>): Promise<Exit> {
  const { stdin, stdout } = process;
  const raw = stdin.isTTY === true;
  const restore = (): void => {
    if (raw && stdin.isRaw) stdin.setRawMode(false);
  };
  // Whatever ends this process, the user's terminal must not stay raw.
  process.once('exit', restore);
  if (raw) stdin.setRawMode(true);
  const resize = (): void => {
    const size = userTerminalSize();
    if (size === undefined) return;
    try {
      terminal.resize(size.cols, size.rows);
    } catch {
      // the process ended between the signal and the resize
    }
  };
  resize();
  process.on('SIGWINCH', resize);
  const forward = (chunk: Buffer): void => {
    terminal.stream.write(chunk);
  };
  // Piped input: its end is the pty's end of file (^D), as typing it would be.
  const endOfInput = (): void => {
    if (!terminal.stream.destroyed) terminal.stream.write('\x04');
  };
  stdin.on('data', forward);
  stdin.once('end', endOfInput);
  stdin.resume();
  const ended = new Promise<void>((resolve) => {
    terminal.stream.on('data', (chunk: Buffer) => stdout.write(chunk));
    terminal.stream.once('end', resolve);
    terminal.stream.once('close', resolve);
    terminal.stream.once('error', () => resolve());
  });
  try {
    const exit = await exited;
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, DRAIN_AFTER_EXIT_MS).unref())]);
    return exit;
  } finally {
    terminal.stream.destroy();
    stdin.off('data', forward);
    stdin.off('end', endOfInput);
    stdin.pause();
    process.off('SIGWINCH', resize);
    process.off('exit', restore);
    restore();
  }
}
