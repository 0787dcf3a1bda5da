// The README's fleet block is real: this test runs it as a user would, in sh, on a free port,
// with `salvo` as the built CLI, its own state directory and a unique container id prefix.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { removeTempDirs, tempDir } from '../helpers.js';
import { freePort } from './redis-server.js';

after(removeTempDirs);
const root = fileURLToPath(new URL('../../../', import.meta.url));

function readmeFleetBlock(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- readme-fleet');
  assert.ok(marker >= 0, 'README has a marked fleet block');
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  assert.ok(match?.[1] !== undefined);
  return match[1];
}

it('runs the README fleet block: a Redis, a worker, a submit --wait with both results', { timeout: 120_000 }, async () => {
  const dir = tempDir('salvo-fleet-');
  const port = await freePort();
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  const script = readmeFleetBlock()
    .replaceAll('6390', String(port))
    .replaceAll('demo-', 'flt-readme-')
    .replace(/^salvo /gm, `${JSON.stringify(process.execPath)} ${JSON.stringify(main)} `);
  writeFileSync(join(dir, 'fleet.sh'), script);
  const { stdout, stderr } = await promisify(execFile)('sh', [join(dir, 'fleet.sh')], {
    cwd: dir,
    env: { ...process.env, SALVO_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', CI: '1' },
  });
  assert.match(stdout, /exit +flt-readme-1: exit 3/);
  assert.match(stdout, /ok +flt-readme-2/);
  assert.match(stderr, /2 jobs: 1 ok, 1 exit≠0/);
  assert.match(stdout, /queue demo: 0 waiting, 0 active, 2 completed, 0 failed/);
  assert.match(stdout, /workers: 1\n .* concurrency 4/);
});
