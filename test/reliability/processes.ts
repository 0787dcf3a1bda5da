// Process checks for the reliability tests: liveness by identity, /proc scans, polling.
import { readFileSync, readdirSync } from 'node:fs';
import { readProcStat } from '../../src/io/procfs.js';

/** True while pid runs (a zombie has ended) and, given a start time, is still that process. */
export function isRunning(pid: number, startTime?: number): boolean {
  const stat = readProcStat(pid);
  if (stat === null || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

export function startTimeOf(pid: number): number {
  const stat = readProcStat(pid);
  if (stat === null) throw new Error(`pid ${pid} does not exist`);
  return stat.startTime;
}

/** Pids of running processes whose command line contains `text` (other than this process). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone
    }
    if (cmdline.includes(text) && isRunning(pid)) found.push(pid);
  }
  return found;
}

/** Polls `condition` every 50 ms until it holds; throws naming `what` after timeoutMs. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
