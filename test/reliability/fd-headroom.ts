// For the resource-limit children: leave an open launcher only a known number of free fds, so
// that the limit is reached whatever the machine's speed (dummy fds on /dev/null hold the rest).
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';

export interface FdHeadroom {
  nofileLimit: number;
  /** fds in use once the launcher was open, before the dummies. */
  inUse: number;
  /** fds left free for the work. */
  free: number;
  release(): void;
}

export function nofileLimit(): number {
  return Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
}

export function leaveFreeFds(keepFree: number): FdHeadroom {
  const limit = nofileLimit();
  const inUse = readdirSync('/proc/self/fd').length - 1; // less the directory's own fd
  const dummies: number[] = [];
  while (inUse + dummies.length < limit - keepFree) dummies.push(openSync('/dev/null', 'r'));
  return {
    nofileLimit: limit,
    inUse,
    free: limit - inUse - dummies.length,
    release: () => dummies.splice(0).forEach((fd) => closeSync(fd)),
  };
}
