// What one spawn of the runtime came to, whichever spawner ran it (native-spawn.ts, execa-spawn.ts),
// and the environment both give the runtime.

/** What a spawn came to; the same shape whichever spawner ran it. */
export interface SpawnOutcome {
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  spawnError: { code: string; message: string } | null;
}

let environment: Record<string, string> | undefined;

/** The runtime's environment: this process's, minus NOTIFY_SOCKET (DESIGN §13); computed once per thread. */
export function runtimeEnvironment(): Record<string, string> {
  if (environment !== undefined) return environment;
  environment = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'NOTIFY_SOCKET') environment[key] = value;
  }
  return environment;
}

/** A spawn that did not happen, as an outcome (the errno code and the message). */
export function notSpawned(error: unknown): SpawnOutcome {
  const cause = error as NodeJS.ErrnoException;
  return {
    pid: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    spawnError: { code: cause.code ?? 'ESPAWN', message: cause.message ?? String(error) },
  };
}
