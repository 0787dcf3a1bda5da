// salvo's version, from its package.json (read when asked: one small file).
import { readFileSync } from 'node:fs';

export function salvoVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
