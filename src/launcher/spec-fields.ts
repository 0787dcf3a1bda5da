// The fields a start spec, a batch job and an exec spec may have: one list per type, checked by the
// compiler against src/types.ts, so that a field salvo does not know (a typo) is refused, never ignored.
import { closest, distance } from 'fastest-levenshtein';
import { SalvoError } from '../errors.js';
import type { ExecSpec, JobSpec, StartSpec } from '../types.js';

/** Every field of StartSpec (the check below fails the build when one is missing). */
export const START_FIELDS = [
  'id',
  'bundle',
  'image',
  'entrypoint',
  'readOnly',
  'args',
  'env',
  'cwd',
  'terminal',
  'terminalSize',
  'consoleSocket',
  'stdio',
  'fifoHandoff',
  'stdin',
  'noPivot',
  'noNewKeyring',
  'labels',
  'signal',
  'startMode',
  'batchId',
  'checkpoint',
  'volumes',
  'mounts',
  'tmpfs',
  'user',
  'hostname',
  'network',
  'memory',
  'cpus',
  'pidsLimit',
  'capAdd',
  'capDrop',
  'init',
  'hostPid',
] as const satisfies readonly (keyof StartSpec)[];

/** A batch job: a start spec without what the batch sets itself (signal, batchId), with its own timeout. */
export const JOB_FIELDS = [
  ...START_FIELDS.filter((f): f is Exclude<typeof f, 'signal' | 'batchId'> => f !== 'signal' && f !== 'batchId'),
  'timeoutMs',
] as const satisfies readonly (keyof JobSpec)[];

export const EXEC_FIELDS = [
  'args',
  'env',
  'cwd',
  'user',
  'terminal',
  'terminalSize',
  'consoleSocket',
  'stdio',
  'fifoHandoff',
  'execId',
  'labels',
] as const satisfies readonly (keyof ExecSpec)[];

// Compile-time: each list names every field of its type (`satisfies` above: no field it lacks).
type Missing<List extends readonly string[], T> = Exclude<keyof T, List[number]>;
const COMPLETE: [Missing<typeof START_FIELDS, StartSpec> | Missing<typeof JOB_FIELDS, JobSpec> | Missing<typeof EXEC_FIELDS, ExecSpec>] extends [
  never,
]
  ? true
  : never = true;
void COMPLETE;

/**
 * Throws ERR_INVALID_SPEC for the first field of `spec` not in `known`, suggesting the nearest
 * known one when it is a likely typo. A field set to undefined is as good as absent.
 */
export function refuseUnknownFields(spec: object, known: readonly string[], what: string): void {
  for (const [field, value] of Object.entries(spec)) {
    if (value === undefined || known.includes(field)) continue;
    throw new SalvoError('ERR_INVALID_SPEC', `${what} has an unknown field "${field}"${suggestion(field, known)}`, { details: { field } });
  }
}

/** " (did you mean "args"?)" for a near miss (a few edits, or another case); else the known fields. */
function suggestion(field: string, known: readonly string[]): string {
  const near = closest(field, known);
  const edits = distance(field.toLowerCase(), near.toLowerCase());
  if (edits <= Math.max(1, Math.floor(field.length / 3))) return ` (did you mean "${near}"?)`;
  return ` (known: ${known.join(', ')})`;
}
