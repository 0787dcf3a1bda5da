// Colours for stderr/stdout messages: on for a terminal, off under NO_COLOR, forced by FORCE_COLOR.
import * as util from 'node:util';

export interface Style {
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

type Format = 'green' | 'red' | 'yellow' | 'dim' | 'bold';

/** The stream part this needs, so tests can pass a plain object. */
export type StyleStream = Pick<NodeJS.WriteStream, 'isTTY'>;

export function createStyle(stream: StyleStream, env: NodeJS.ProcessEnv = process.env): Style {
  const enabled = colorsWanted(stream, env) && typeof util.styleText === 'function';
  // We decided for this stream ourselves; styleText would otherwise judge process.stdout instead.
  const paint = (format: Format) => (s: string) => (enabled ? util.styleText(format, s, { validateStream: false }) : s);
  return {
    enabled,
    green: paint('green'),
    red: paint('red'),
    yellow: paint('yellow'),
    dim: paint('dim'),
    bold: paint('bold'),
  };
}

function colorsWanted(stream: StyleStream, env: NodeJS.ProcessEnv): boolean {
  // no-color.org: the user's opt-out wins over everything, whatever its value.
  if (env.NO_COLOR !== undefined) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}
