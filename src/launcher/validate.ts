// Validation of ids and start specs: before any record, directory or process exists.
import { constants } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { SalvoError } from '../errors.js';
import type { CheckpointRef, FifoHandoff, ProcessOverride, StartMode, StartSpec, StdioMode } from '../types.js';
import { MAX_ARG_STRLEN, bad, refuseOverlong, showValue, stringArray } from './spec-check.js';
import { normalizeContainerOptions } from './validate-container.js';
import { logLimitBytes } from './sizes.js';
import { START_FIELDS, refuseUnknownFields } from './spec-fields.js';

export { MAX_ARG_STRLEN, bad, showValue, stringArray };

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** A duration in ms as options take it: a finite number ≥ 0. */
export function isMilliseconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Whether `id` is a valid container id (validateId without the error). */
export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws ERR_INVALID_ID unless `id` is safe to use as one path component and a runtime id. */
export function validateId(id: unknown, what = 'id'): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id) : String(id);
    const length = typeof id === 'string' && id.length > 128 ? ` (${id.length} characters, at most 128)` : '';
    throw new SalvoError('ERR_INVALID_ID', `${what} ${shown}${length} is invalid: use 1-128 of A-Z a-z 0-9 _ . - and start with a letter or digit`);
  }
  return id;
}

/** A signal for the runtime's kill: a number as given, a name with its SIG prefix. */
export function normalizeSignal(signal: string | number): string {
  if (typeof signal === 'number' && Number.isInteger(signal) && signal > 0 && signal < 65) return String(signal);
  // Digits first: the name pattern below would take "9" as a name and make it "SIG9".
  if (typeof signal === 'string' && /^\d+$/.test(signal)) return signal;
  if (typeof signal === 'string' && /^(SIG)?[A-Z0-9+-]+$/.test(signal)) {
    const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
    // A name the runtime would refuse is the caller's mistake, said before any runtime runs.
    if (name in constants.signals || /^SIGRTMIN(\+\d+)?$|^SIGRTMAX(-\d+)?$/.test(name)) return name;
  }
  throw new SalvoError('ERR_INVALID_SPEC', `signal must be a name like SIGTERM or a number, got ${JSON.stringify(signal)}`);
}

/** Accepts { KEY: value } or ['KEY=value']; returns the OCI list form. */
export function normalizeEnv(field: string, env: unknown): string[] {
  if (Array.isArray(env)) {
    const list = stringArray(field, env, true);
    for (const entry of list) if (!/^[^=]+=/.test(entry)) throw bad(field, entry, 'KEY=value entries');
    return list;
  }
  const entries = envEntries(field, env);
  refuseOverlong(field, entries);
  return entries;
}

function envEntries(field: string, env: unknown): string[] {
  if (typeof env === 'object' && env !== null) {
    return Object.entries(env).map(([key, value]) => {
      if (key === '' || key.includes('=') || key.includes('\0')) {
        throw new SalvoError('ERR_INVALID_SPEC', `${field} has an invalid key ${JSON.stringify(key)}: keys are non-empty, without = or NUL`);
      }
      if (typeof value !== 'string' || value.includes('\0')) throw bad(`${field}.${key}`, value, 'a string without NUL');
      return `${key}=${value}`;
    });
  }
  throw bad(field, env, 'an object of strings or an array of KEY=value');
}

export function normalizeLabels(labels: unknown): Record<string, string> | null {
  if (labels === undefined) return null;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw bad('labels', labels, 'an object of strings');
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== 'string') throw bad(`labels.${key}`, value, 'a string');
  }
  return { ...(labels as Record<string, string>) };
}

/** A terminal's size as OCI process.consoleSize; 80×24 unless given (a 0×0 pty confuses programs). */
export function consoleSize(size: unknown): { height: number; width: number } {
  if (size === undefined) return { height: 24, width: 80 };
  const { cols, rows } = (size ?? {}) as { cols?: unknown; rows?: unknown };
  const dimension = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
  if (!dimension(cols) || !dimension(rows)) throw bad('terminalSize', size, '{ cols, rows } with integers from 1 to 65535');
  return { height: rows, width: cols };
}

/** A checkpoint to restore: exactly one of a name (an id-like path component) or a directory. */
export interface NormalizedCheckpointRef {
  name: string | null;
  dir: string | null;
  workDir: string | null;
}

export function normalizeCheckpointRef(ref: CheckpointRef, field = 'checkpoint'): NormalizedCheckpointRef {
  if (typeof ref !== 'object' || ref === null) throw bad(field, ref, 'an object with name or dir');
  if ((ref.name === undefined) === (ref.dir === undefined)) throw bad(field, ref, 'an object with either name or dir');
  return {
    name: ref.name === undefined ? null : validateId(ref.name, `${field}.name`),
    dir: ref.dir === undefined ? null : directory(`${field}.dir`, ref.dir),
    workDir: ref.workDir === undefined ? null : directory(`${field}.workDir`, ref.workDir),
  };
}

/** A directory path option, resolved to an absolute path. */
export function directory(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) throw bad(field, value, 'a directory path');
  return resolve(value);
}

export interface NormalizedStart {
  id: string;
  bundle: string | null;
  override: ProcessOverride | null;
  stdio: StdioMode;
  startMode: StartMode;
  noPivot: boolean;
  noNewKeyring: boolean;
  stdin: string | null;
  labels: Record<string, string> | null;
  signal: AbortSignal | null;
  batchId: string | null;
  checkpoint: NormalizedCheckpointRef | null;
  fifoHandoff: FifoHandoff | null;
  /** With a terminal: where the runtime sends the pty master (another process listens), else null. */
  consoleSocket: string | null;
  image: { ref: string; entrypoint: string[] | null; readOnly: boolean } | null;
  /** null: the default (true for salvo's own spec: the default bundle, an image; false with hostPid). */
  init: boolean | null;
  hostPid: boolean;
  /** Bytes kept of each log stream; 0: no limit. */
  logLimit: number;
}

/** A start's stdin: an absolute path (a terminal brings its own). */
function stdinFile(value: unknown): string {
  if (typeof value !== 'string' || !isAbsolute(value) || value.includes('\0')) throw bad('stdin', value, 'an absolute path of a file to read');
  return value;
}

export const STDIO_MODES: readonly StdioMode[] = ['null', 'log', 'fifo'];

export function handoffOf(handoff: unknown): FifoHandoff | null {
  if (handoff !== undefined && typeof handoff !== 'function') throw bad('fifoHandoff', handoff, 'a function');
  return (handoff as FifoHandoff | undefined) ?? null;
}

/** A console socket someone else listens on: an absolute path, with terminal: true only. */
export function consoleSocketOf(socket: unknown, terminal: boolean): string | null {
  if (socket === undefined) return null;
  if (typeof socket !== 'string' || !isAbsolute(socket) || socket.includes('\0'))
    throw bad('consoleSocket', socket, 'an absolute path of a unix socket');
  if (!terminal) throw bad('consoleSocket', socket, 'used with terminal: true');
  return socket;
}

export function normalizeStartSpec(spec: StartSpec): NormalizedStart {
  if (typeof spec !== 'object' || spec === null) throw bad('spec', spec, 'an object');
  refuseUnknownFields(spec, START_FIELDS, 'the start spec');
  const id = validateId(spec.id, 'container id');
  if (spec.bundle !== undefined && (typeof spec.bundle !== 'string' || spec.bundle === '')) {
    throw bad('bundle', spec.bundle, 'a directory path');
  }
  const override: ProcessOverride = {};
  if (spec.args !== undefined) override.args = stringArray('args', spec.args);
  if (spec.env !== undefined) override.env = normalizeEnv('env', spec.env);
  if (spec.cwd !== undefined) {
    if (typeof spec.cwd !== 'string' || !isAbsolute(spec.cwd)) throw bad('cwd', spec.cwd, 'an absolute path');
    override.cwd = spec.cwd;
  }
  if (spec.terminal !== undefined) {
    if (typeof spec.terminal !== 'boolean') throw bad('terminal', spec.terminal, 'a boolean');
    override.terminal = spec.terminal;
  }
  const size = spec.terminalSize === undefined && spec.terminal !== true ? null : consoleSize(spec.terminalSize);
  if (spec.terminal === true && size !== null) override.consoleSize = size;
  const container = normalizeContainerOptions(spec);
  if (container !== null) override.container = container;
  const stdio = spec.stdio ?? 'log';
  if (!STDIO_MODES.includes(stdio)) throw bad('stdio', stdio, `one of ${STDIO_MODES.join(', ')}`);
  const startMode = spec.startMode ?? 'run';
  if (startMode !== 'run' && startMode !== 'create-start') throw bad('startMode', startMode, '"run" or "create-start"');
  const labels = normalizeLabels(spec.labels);
  if (spec.signal !== undefined && !(spec.signal instanceof AbortSignal)) throw bad('signal', spec.signal, 'an AbortSignal');
  if (spec.batchId !== undefined && typeof spec.batchId !== 'string') throw bad('batchId', spec.batchId, 'a string');
  if (spec.init !== undefined && typeof spec.init !== 'boolean') throw bad('init', spec.init, 'a boolean');
  if (spec.hostPid !== undefined && typeof spec.hostPid !== 'boolean') throw bad('hostPid', spec.hostPid, 'a boolean');
  return {
    id,
    bundle: spec.bundle === undefined ? null : resolve(spec.bundle),
    override: Object.keys(override).length > 0 ? override : null,
    stdio,
    startMode,
    noPivot: spec.noPivot === true,
    noNewKeyring: spec.noNewKeyring === true,
    stdin: spec.stdin === undefined ? null : stdinFile(spec.stdin),
    labels,
    signal: spec.signal ?? null,
    batchId: spec.batchId ?? null,
    checkpoint: spec.checkpoint === undefined ? null : normalizeCheckpointRef(spec.checkpoint),
    fifoHandoff: handoffOf(spec.fifoHandoff),
    consoleSocket: consoleSocketOf(spec.consoleSocket, spec.terminal === true),
    image: normalizeImage(spec),
    init: spec.init ?? null,
    hostPid: spec.hostPid === true,
    logLimit: logLimitBytes(spec.logLimit),
  };
}

function normalizeImage(spec: StartSpec): NormalizedStart['image'] {
  if (spec.image === undefined) {
    // readOnly without an image is the derived config's root.readonly (validate-container.ts).
    if (spec.entrypoint !== undefined) throw bad('entrypoint', spec.entrypoint, 'used with image');
    return null;
  }
  if (typeof spec.image !== 'string' || spec.image === '') throw bad('image', spec.image, 'an image reference (oci:DIR[:TAG])');
  if (spec.bundle !== undefined) throw bad('bundle', spec.bundle, 'left out when an image is given');
  if (spec.checkpoint !== undefined) throw bad('checkpoint', spec.checkpoint, 'left out when an image is given');
  if (spec.readOnly !== undefined && typeof spec.readOnly !== 'boolean') throw bad('readOnly', spec.readOnly, 'a boolean');
  return {
    ref: spec.image,
    entrypoint: spec.entrypoint === undefined ? null : stringArray('entrypoint', spec.entrypoint, true),
    readOnly: spec.readOnly === true,
  };
}
