// salvo's public API: exports only.
export { Launcher, type CloseOptions, type GcResult, type RecordFilter, type RuntimeInfo } from './launcher/launcher.js';
export type { Proc } from './launcher/proc.js';
export { BATCH_DEFAULTS } from './launcher/batch.js';
export { SalvoError, RuntimeError, ERROR_CODES, type ErrorCode } from './errors.js';
export { LAUNCHER_DEFAULTS } from './launcher/options.js';
export { defaultStateDir } from './launcher/state-dir.js';
export { RecordReader, type ListFilter } from './store/records.js';
export { connect, type ConnectOptions } from './server/connect.js';
export { LauncherClient, type ServerInfo } from './server/client.js';
export type { Terminal } from './io/terminal.js';
export type {
  BatchEvent,
  CheckpointRef,
  CheckpointResult,
  CheckpointSpec,
  CriuOptions,
  ExecSpec,
  FifoHandoff,
  ProcessUser,
  RuntimeState,
  TerminalSize,
  BatchOptions,
  Exit,
  ExitState,
  JobResult,
  JobSpec,
  JobState,
  JobTimings,
  LaunchTimings,
  LauncherOptions,
  Logger,
  ProcessRecord,
  RecordState,
  Rusage,
  StartMode,
  StartSpec,
  StdioMode,
} from './types.js';
