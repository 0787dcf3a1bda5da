// `-e, --env KEY=VALUE`, repeatable, for `salvo run` and `salvo exec`.
import { UsageError } from './exit-codes.js';

/** commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Each entry must be KEY=VALUE: checked before any launcher opens. */
export function checkEnvEntries(entries: readonly string[]): void {
  for (const entry of entries) if (!/^[^=]+=/.test(entry)) throw new UsageError(`--env takes KEY=VALUE, got "${entry}"`);
}
