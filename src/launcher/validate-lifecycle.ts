// Validation of exec and checkpoint specs, before any record, directory or process exists.
import { isAbsolute } from 'node:path';
import { INIT_EXEC_ID } from '../io/process-dir.js';
import type { CheckpointSpec, CriuOptions, ExecSpec, FifoHandoff, ProcessOverride, ProcessUser, StdioMode } from '../types.js';
import {
  STDIO_MODES,
  bad,
  consoleSocketOf,
  handoffOf,
  consoleSize,
  directory,
  normalizeEnv,
  normalizeLabels,
  stringArray,
  validateId,
} from './validate.js';
import { SalvoError } from '../errors.js';
import { EXEC_FIELDS, refuseUnknownFields } from './spec-fields.js';

export interface NormalizedExec {
  /** Null: the launcher picks a fresh `exec-<n>`. */
  execId: string | null;
  override: ProcessOverride;
  terminal: boolean;
  stdio: StdioMode;
  labels: Record<string, string> | null;
  fifoHandoff: FifoHandoff | null;
  consoleSocket: string | null;
}

const MAX_ID = 2 ** 32 - 2;

function uint(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ID) throw bad(field, value, 'an integer uid/gid ≥ 0');
  return value;
}

function normalizeUser(user: unknown): ProcessUser {
  if (typeof user !== 'object' || user === null || Array.isArray(user)) throw bad('user', user, 'an object { uid, gid, additionalGids? }');
  const { uid, gid, additionalGids } = user as Record<string, unknown>;
  const normalized: ProcessUser = { uid: uint('user.uid', uid), gid: uint('user.gid', gid) };
  if (additionalGids !== undefined) {
    if (!Array.isArray(additionalGids)) throw bad('user.additionalGids', additionalGids, 'an array of gids');
    normalized.additionalGids = additionalGids.map((g, i) => uint(`user.additionalGids[${i}]`, g));
  }
  return normalized;
}

export function normalizeExecSpec(spec: ExecSpec): NormalizedExec {
  if (typeof spec !== 'object' || spec === null) throw bad('exec spec', spec, 'an object');
  refuseUnknownFields(spec, EXEC_FIELDS, 'the exec spec');
  let execId: string | null = null;
  if (spec.execId !== undefined) {
    execId = validateId(spec.execId, 'exec id');
    if (execId === INIT_EXEC_ID) throw new SalvoError('ERR_INVALID_ID', `exec id "${INIT_EXEC_ID}" is reserved for the container's init`);
  }
  const override: ProcessOverride = { args: stringArray('args', spec.args) };
  if (spec.env !== undefined) override.env = normalizeEnv('env', spec.env);
  if (spec.cwd !== undefined) {
    if (typeof spec.cwd !== 'string' || !isAbsolute(spec.cwd)) throw bad('cwd', spec.cwd, 'an absolute path');
    override.cwd = spec.cwd;
  }
  if (spec.user !== undefined) override.user = normalizeUser(spec.user);
  if (spec.terminal !== undefined && typeof spec.terminal !== 'boolean') throw bad('terminal', spec.terminal, 'a boolean');
  const terminal = spec.terminal === true;
  override.terminal = terminal;
  if (terminal) override.consoleSize = consoleSize(spec.terminalSize);
  const stdio = spec.stdio ?? 'log';
  if (!STDIO_MODES.includes(stdio)) throw bad('stdio', stdio, `one of ${STDIO_MODES.join(', ')}`);
  return {
    execId,
    override,
    terminal,
    stdio,
    labels: normalizeLabels(spec.labels),
    fifoHandoff: handoffOf(spec.fifoHandoff),
    consoleSocket: consoleSocketOf(spec.consoleSocket, terminal),
  };
}

export interface NormalizedCheckpoint {
  name: string | null;
  dir: string | null;
  workDir: string | null;
  leaveRunning: boolean;
  criu: Required<CriuOptions>;
}

const CRIU_OPTIONS = ['tcpEstablished', 'extUnixSk', 'shellJob', 'fileLocks'] as const;

export function normalizeCheckpointSpec(spec: CheckpointSpec): NormalizedCheckpoint {
  if (typeof spec !== 'object' || spec === null) throw bad('checkpoint spec', spec, 'an object');
  if (spec.name === undefined && spec.dir === undefined) throw bad('checkpoint spec', spec, 'an object with name or dir');
  const flag = (field: string, value: unknown): boolean => {
    if (value !== undefined && typeof value !== 'boolean') throw bad(field, value, 'a boolean');
    return value === true;
  };
  const criu = Object.fromEntries(CRIU_OPTIONS.map((name) => [name, flag(name, spec[name])])) as Required<CriuOptions>;
  return {
    name: spec.name === undefined ? null : validateId(spec.name, 'checkpoint name'),
    dir: spec.dir === undefined ? null : directory('dir', spec.dir),
    workDir: spec.workDir === undefined ? null : directory('workDir', spec.workDir),
    leaveRunning: flag('leaveRunning', spec.leaveRunning),
    criu,
  };
}
