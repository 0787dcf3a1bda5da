// The OCI process spec of an exec'd process (`exec --process process.json`): the container's
// own process with args, env, cwd, user and terminal overridden.
import { SalvoError } from '../errors.js';
import type { ProcessOverride } from '../types.js';
import { applyProcessOverride } from './spec.js';

type Json = Record<string, unknown>;

/** A copy of `config.process` with the override applied; `source` names the config in errors. */
export function deriveProcess(config: Json, source: string, override: ProcessOverride): Json {
  const base = config.process;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    throw new SalvoError('ERR_BUNDLE_INVALID', `${source} has no process object to derive an exec'd process from`);
  }
  const process: Json = { ...(base as Json) };
  applyProcessOverride(process, override);
  if (!Array.isArray(process.args) || process.args.length === 0) {
    throw new SalvoError('ERR_INVALID_SPEC', 'args must be a non-empty array of strings for an exec');
  }
  if (override.user !== undefined) {
    const { uid, gid, additionalGids } = override.user;
    process.user = additionalGids === undefined ? { uid, gid } : { uid, gid, additionalGids: [...additionalGids] };
  }
  // An exec'd process has a terminal only when asked: the runtime needs a console socket for one.
  process.terminal = override.terminal === true;
  if (process.terminal !== true) delete process.consoleSize;
  else if (override.consoleSize !== undefined) process.consoleSize = { ...override.consoleSize };
  return process;
}
