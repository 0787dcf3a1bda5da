// Entry of the baseline process: JSON BaselineInput in argv[2], JSON BaselineOutput on stdout.
import { runBaseline, type BaselineInput } from './baseline-driver.js';

const input = JSON.parse(process.argv[2] ?? '{}') as BaselineInput;
process.stdout.write(`${JSON.stringify(await runBaseline(input))}\n`);
