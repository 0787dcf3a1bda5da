// Entry for the live-memory bench (run with node --expose-gc): prints a LiveResult as JSON.
import { runLive } from './live.js';

const [runtime = 'runc', count = '2000', stateDir = '/run/salvo/bench-live'] = process.argv.slice(2);
process.stdout.write(`${JSON.stringify(await runLive(runtime, Number(count), stateDir))}\n`);
