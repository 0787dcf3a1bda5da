// `-e, --env KEY=VALUE|KEY` and `--env-file FILE`, repeatable, for `salvo run` and `salvo exec`,
// as docker takes them: `-e KEY` passes the host's value (or nothing when the host has none).
import { readFileSync } from 'node:fs';
import { UsageError } from './exit-codes.js';

/** commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The KEY=VALUE list the flags give, env files first and -e after (a later entry wins); checked
 * before any launcher opens.
 */
export function envFromFlags(entries: readonly string[], files: readonly string[] = [], host: NodeJS.ProcessEnv = process.env): string[] {
  const result: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--env-file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    text.split('\n').forEach((line, index) => {
      const entry = line.replace(/\r$/, '').trim();
      if (entry === '' || entry.startsWith('#')) return;
      result.push(...entryOrHost(entry, host, `--env-file ${file} line ${index + 1}`));
    });
  }
  for (const entry of entries) result.push(...entryOrHost(entry, host, '--env'));
  return result;
}

function entryOrHost(entry: string, host: NodeJS.ProcessEnv, where: string): string[] {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  if (key === '' || /\s/.test(key) || entry.includes('\0')) throw new UsageError(`${where} takes KEY=VALUE or KEY, got "${entry}"`);
  if (eq >= 0) return [entry];
  const value = host[key];
  return value === undefined ? [] : [`${key}=${value}`];
}
