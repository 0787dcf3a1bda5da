// The README's API example is real code: this test runs it as a user would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RUNTIMES, removeTempDirs, tempDir } from './helpers.js';

after(removeTempDirs);

const root = fileURLToPath(new URL('../../', import.meta.url));

function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- readme-example');
  assert.ok(marker >= 0, 'README has a marked example');
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  assert.ok(match?.[1] !== undefined, 'the marked example is a js block');
  return match[1];
}

it('runs the README API example and prints the exit it promises', { skip: !RUNTIMES.includes('runc') && 'runc is not under test' }, () => {
  const dir = tempDir();
  const script = join(dir, 'example.mjs');
  const entry = join(root, 'dist', 'src', 'index.js');
  writeFileSync(script, readmeExample().replace("from 'salvo'", `from ${JSON.stringify(entry)}`));
  const output = execFileSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, SALVO_STATE_DIR: join(dir, 'state') },
    timeout: 60_000,
  });
  assert.match(output, /state: 'exited'/);
  assert.match(output, /exitCode: 3/);
  assert.match(output, /signal: null/);
});

function readmeCiExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- readme-ci-example');
  assert.ok(marker >= 0, 'README has a marked CI example');
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  assert.ok(match?.[1] !== undefined, 'the marked CI example is a sh block');
  return match[1];
}

it('runs the README CI example in the default busybox bundle', { skip: !RUNTIMES.includes('runc') && 'runc is not under test' }, () => {
  const dir = tempDir();
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  const script = `set -e\nsalvo() { ${JSON.stringify(process.execPath)} ${JSON.stringify(main)} "$@"; }\n${readmeCiExample()}`;
  const output = execFileSync('/bin/sh', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SALVO_STATE_DIR: join(dir, 'state'), SALVO_RUNTIME: 'runc', NO_COLOR: '1' },
    timeout: 120_000,
  });
  assert.match(output, /== test_math\.sh\n1 \+ 1 = 2\n== test_text\.sh\nupper ok\n/);
  assert.match(output, /1 \+ 1 = 2\n?$/, "salvo logs shows the batch job's output");
  const report = readFileSync(join(dir, 'ci-demo', 'report.xml'), 'utf8');
  assert.match(report, /tests="2"/);
  assert.match(report, /failures="0"/);
});
