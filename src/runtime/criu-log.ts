// CRIU's own log (dump.log, restore.log in the work directory): the runtime only says "criu
// failed"; CRIU's "Error (file:line): …" lines say why.

/** CRIU's distinct error lines, without their timestamps, in order; at most the last `max`. */
export function criuErrors(logText: string, max = 5): string[] {
  const errors: string[] = [];
  for (const raw of logText.split('\n')) {
    // "(00.012649) Error (criu/vdso.c:613): vdso: …", or without the timestamp.
    const line = raw.replace(/^\(\s*[\d.]+\)\s*/, '').trim();
    if (/^Error \(/.test(line) && !errors.includes(line)) errors.push(line);
  }
  return errors.slice(-max);
}

/**
 * The runtime's message on one line, then CRIU's errors and where its log is; a runtime that
 * does not know the verb (crun built without CRIU) is said to lack CRIU support.
 */
export function describeCriuFailure(message: string, logFile: string, logText: string): string {
  const flat = message.replace(/\s*\n\s*/g, ' ').trim();
  if (/unknown command (checkpoint|restore)/.test(flat)) return `${flat} (this runtime was built without CRIU support)`;
  const errors = criuErrors(logText);
  return errors.length === 0 ? flat : `${flat} — CRIU (${logFile}): ${errors.join('; ')}`;
}
