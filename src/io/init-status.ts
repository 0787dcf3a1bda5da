// The command's real wait status, left by salvo-init in the process directory (DESIGN §12): an
// init can only exit with 128 + n for a command killed by signal n, which `exit 143` also gives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The process directory's dir bind-mounted writable into the container for salvo-init. */
export function initStatusDir(dir: string): string {
  return join(dir, 'init-status');
}

/**
 * The number of the signal that killed the command when salvo-init exited with `exitCode` (> 128) for it; null
 * when the command exited with that code itself or nothing (consistent) was written. A status that
 * does not match the exit code is not believed: the container could write the file itself.
 */
export function signalInInitStatus(dir: string, exitCode: number): number | null {
  let text: string;
  try {
    text = readFileSync(join(initStatusDir(dir), 'status'), 'utf8');
  } catch {
    return null;
  }
  const match = /^signal (\d+)\n$/.exec(text);
  if (match === null || 128 + Number(match[1]) !== exitCode) return null;
  return Number(match[1]);
}
