// salvo's own processes (the serving launcher, bench, a fleet worker) keep V8's young generation
// at its first size. Under a burst of starts V8 doubles it up to 32 MB and keeps it committed:
// measured, that was half of the launcher's RSS growth over 1,000 starts, and capping it cost no
// CPU per start (DESIGN §10). An embedder decides for its own process: `node --max-semi-space-size=1`.
import { setFlagsFromString } from 'node:v8';

/** From now on the young generation stays at its current size (V8 reads this flag when it grows). */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
