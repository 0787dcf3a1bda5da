// Entry for the live-memory bench (run with node --expose-gc): prints a LiveResult as JSON.
import { keepYoungGenerationSmall } from '../src/heap.js';
import { runLive } from './live.js';

keepYoungGenerationSmall(); // as in salvo's own processes (src/cli/main.ts)

const [runtime = 'runc', count = '2000', stateDir = '/run/salvo/bench-live'] = process.argv.slice(2);
process.stdout.write(`${JSON.stringify(await runLive(runtime, Number(count), stateDir))}\n`);
