// salvo run --image, salvo images and salvo images prune, as a user types them (runc).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeTempDirs, tempDir } from '../helpers.js';
import { MAIN } from '../reliability/cli-child.js';
import { buildTestImage } from './layout-builder.js';

after(removeTempDirs);

function salvo(stateDir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, '--runtime', 'runc', ...args], {
    env: { ...process.env, SALVO_STATE_DIR: stateDir, NO_COLOR: '1', CI: '1' },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('salvo run --image and salvo images', { timeout: 120_000 }, () => {
  it('runs the image Cmd, overrides it and the Entrypoint, lists the image, and prunes it once unused', async () => {
    const dir = tempDir('salvo-img-cli-');
    await buildTestImage(dir, join(dir, 'layout'));
    const image = `oci:${join(dir, 'layout')}:v1`;
    const state = join(dir, 'state');
    const plain = salvo(state, ['run', '--id', 'img-cli-a', '--image', image]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, 'hello from the image\n1000\n/home/app\n');
    const args = salvo(state, ['run', '--id', 'img-cli-b', '--image', image, '--', '/bin/sh', '-c', 'exit 7']);
    assert.equal(args.status, 7, args.stderr);
    const entry = salvo(state, ['run', '--id', 'img-cli-c', '--image', image, '--entrypoint', '/bin/echo', '--', 'x']);
    assert.equal(entry.stdout, 'x\n');
    const missing = salvo(state, ['run', '--id', 'img-cli-d', '--image', `oci:${join(dir, 'layout')}:nope`]);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /no tag "nope"/);
    const listed = JSON.parse(salvo(state, ['images', '--json']).stdout) as { refs: string[]; containers: number }[];
    assert.deepEqual(
      listed.map((i) => [i.refs, i.containers]),
      [[[image], 0]],
    );
    assert.match(salvo(state, ['images', 'prune']).stdout, /removed 1 images/);
    assert.deepEqual(JSON.parse(salvo(state, ['images', '--json']).stdout), []);
  });
});
