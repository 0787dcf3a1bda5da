// Reading a runtime's `--log-format json` file: the last error line is the failure's message.

const HYBRID_CGROUP_TEXT = 'cgroups in hybrid mode not supported';

/** The `msg` of the last line whose level is error (or fatal), or null when there is none. */
export function lastErrorMessage(logText: string): string | null {
  let end = logText.length;
  while (end > 0) {
    const start = logText.lastIndexOf('\n', end - 1) + 1;
    const line = logText.slice(start, end).trim();
    end = start - 1;
    if (line === '' || !line.includes('"level"')) continue;
    const message = errorMessageOf(line);
    if (message !== null) return message;
  }
  return null;
}

function errorMessageOf(line: string): string | null {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof entry !== 'object' || entry === null) return null;
  const { level, msg } = entry as { level?: unknown; msg?: unknown };
  if ((level === 'error' || level === 'fatal') && typeof msg === 'string') return msg.trim();
  return null;
}

/** The last non-empty lines of some output, joined, for a fallback message. */
export function tail(text: string, lines = 3, maxChars = 2000): string {
  const kept = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-lines)
    .join(' | ');
  return kept.length > maxChars ? kept.slice(kept.length - maxChars) : kept;
}

// How runc (Go: its own threads and `runc init`), crun and salvo-exec report a fork, clone or
// open that failed for lack of processes or fds: EAGAIN, EMFILE, ENFILE in words or as names.
const EXHAUSTION_TEXT =
  /resource temporarily unavailable|too many open files|file table overflow|\b(EAGAIN|EMFILE|ENFILE)\b|failed to create new OS thread|newosproc/i;

/**
 * True when a failed runtime call's log or output says it ran out of processes or fds: the start
 * is worth retrying once some are free (a pids cgroup or RLIMIT_NOFILE reached, not a bad bundle).
 */
export function mentionsResourceExhaustion(text: string): boolean {
  return EXHAUSTION_TEXT.test(text);
}

/** True when crun refused the host's hybrid cgroup layout (DESIGN §12). */
export function isHybridCgroupRefusal(message: string): boolean {
  return message.includes(HYBRID_CGROUP_TEXT);
}

export const HYBRID_CGROUP_EXPLANATION =
  "crun refuses this host's hybrid cgroup layout (the cgroup2 mount has controllers); " +
  "open the launcher with crunHybridWorkaround: 'auto' (the default) so salvo runs crun in a " +
  'private mount namespace that hides them, or use runc';
