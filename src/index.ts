// salvo's public API: exports only.
export { Launcher, type Proc, type CloseOptions } from './launcher/launcher.js';
export { SalvoError, RuntimeError, ERROR_CODES, type ErrorCode } from './errors.js';
export { LAUNCHER_DEFAULTS } from './launcher/options.js';
export { defaultStateDir } from './launcher/state-dir.js';
export type {
  Exit,
  ExitState,
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
