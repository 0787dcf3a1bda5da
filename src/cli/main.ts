#!/usr/bin/env node
// salvo's executable. `salvo --version` answers before commander and the rest load (a CI
// runner's probe); every other command goes through run-cli.ts.
import { keepYoungGenerationSmall } from '../heap.js';
import { salvoVersion } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) process.stdout.write(`${salvoVersion()}\n`);
else {
  keepYoungGenerationSmall();
  await (await import('./run-cli.js')).runCli(process.argv);
}
