// The foreground part of `salvo run` and `salvo exec`: the user's terminal attached, or the
// process's output streamed, until it has exited and its output has ended.
import type { Exit, Proc } from '../index.js';
import { attachTerminal } from './attach-terminal.js';
import { pipeOutput } from './pipe-output.js';

export async function followProc(proc: Proc): Promise<Exit> {
  if (proc.terminal !== null) return attachTerminal(proc.terminal, proc.exited);
  const output = pipeOutput(proc);
  const exit = await proc.exited;
  await output;
  return exit;
}
