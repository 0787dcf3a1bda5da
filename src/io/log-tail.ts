// The log limit's last step (DESIGN §4): once a process has exited, a stdout.log or stderr.log
// longer than its limit becomes its tail, from the first line boundary, under a one-line marker
// that says how many bytes were cut. While the job ran, salvo-init kept the file's blocks near the
// limit (it punches out the head); what is read here is only the last `limit` bytes.
import { closeSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The marker's text: `salvo logs` and the reports show it as the first line. */
export function cutMarker(cutBytes: number, limit: number): string {
  return `[salvo: ${cutBytes} bytes of output were cut here (log limit ${limit} bytes); the last lines follow]\n`;
}

/** The marker line a cut log starts with (newline included), or null for a log that was not cut. */
export function cutMarkerOf(path: string): string | null {
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(200);
      head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString();
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  return /^\[salvo: \d+ bytes of output were cut here \(log limit \d+ bytes\); the last lines follow\]\n/.exec(head)?.[0] ?? null;
}

/** True when neither log file of a process directory is longer than `limit` (a missing one is not). */
export function logsWithinLimit(dir: string, limit: number): boolean {
  return ['stdout.log', 'stderr.log'].every((name) => (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0) <= limit);
}

/** Both log files of a process directory; a missing or failing one is left as it is (the exit is what matters). */
export function keepLogTails(dir: string, limit: number): void {
  for (const name of ['stdout.log', 'stderr.log']) {
    try {
      keepLogTail(join(dir, name), limit);
    } catch {
      // no such file (stdio other than 'log'), or no room to rewrite it: it stays whole
    }
  }
}

/** Rewrites `path` as its tail of at most `limit` bytes (from a line start) under the marker; true when it was cut. */
export function keepLogTail(path: string, limit: number): boolean {
  const size = statSync(path).size;
  if (size <= limit) return false;
  const tail = Buffer.alloc(limit);
  const fd = openSync(path, 'r');
  let read = 0;
  try {
    while (read < limit) {
      const n = readSync(fd, tail, read, limit - read, size - limit + read);
      if (n === 0) break;
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  // From the first whole line; a tail that is one long line is kept as it is.
  const newline = tail.subarray(0, read).indexOf(10);
  const kept = newline >= 0 && newline < read - 1 ? tail.subarray(newline + 1, read) : tail.subarray(0, read);
  const temp = `${path}.tail`;
  writeFileSync(temp, Buffer.concat([Buffer.from(cutMarker(size - kept.length, limit)), kept]), { mode: 0o600 });
  renameSync(temp, path);
  return true;
}
