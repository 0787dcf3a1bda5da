// Entry for one spawner case of bench/micro (see spawner.ts): prints its numbers as JSON.
import { measureSpawner } from './spawner.js';

const [spawner = 'native', heapMb = '100'] = process.argv.slice(2);
process.stdout.write(`${JSON.stringify(await measureSpawner({ spawner: spawner === 'execa' ? 'execa' : 'native', heapMb: Number(heapMb) }))}\n`);
