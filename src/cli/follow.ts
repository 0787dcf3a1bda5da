// The foreground part of `salvo run` and `salvo exec`: the user's terminal attached, or the
// process's output streamed, until it has exited and its output has ended.
import type { Exit, Proc } from '../index.js';
import { keepLogTails } from '../io/log-tail.js';
import { DEFAULT_LOG_LIMIT } from '../launcher/sizes.js';
import { attachTerminal } from './attach-terminal.js';
import { pipeOutput } from './pipe-output.js';

/** `logLimit`: the copy kept in the record's logs is cut to its tail once the output has ended (DESIGN §4). */
export async function followProc(proc: Proc, logLimit = DEFAULT_LOG_LIMIT): Promise<Exit> {
  if (proc.terminal !== null) return attachTerminal(proc.terminal, proc.exited);
  const output = pipeOutput(proc);
  const exit = await proc.exited;
  await output;
  if (logLimit > 0) keepLogTails(proc.dir, logLimit);
  return exit;
}
