// The cached default bundle is verified, not trusted by its marker: a changed config.json or
// busybox binary is rebuilt before a start uses it.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureBusyboxBundle } from '../../src/bundle/busybox.js';
import { removeTempDirs, tempDir } from '../helpers.js';

after(removeTempDirs);

describe('ensureBusyboxBundle', () => {
  it('rebuilds a cached bundle whose config.json or busybox was changed behind its marker', async () => {
    const stateDir = join(tempDir(), 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const bundle = await ensureBusyboxBundle(stateDir);
    const config = readFileSync(join(bundle, 'config.json'), 'utf8');
    const busybox = readFileSync(join(bundle, 'rootfs', 'bin', 'busybox'));

    const tampered = JSON.parse(config) as Record<string, unknown>;
    tampered.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo owned'] }] };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(tampered));
    assert.equal(await ensureBusyboxBundle(stateDir), bundle);
    assert.equal(readFileSync(join(bundle, 'config.json'), 'utf8'), config, 'the config was rebuilt');

    appendFileSync(join(bundle, 'rootfs', 'bin', 'busybox'), 'x');
    await ensureBusyboxBundle(stateDir);
    assert.ok(readFileSync(join(bundle, 'rootfs', 'bin', 'busybox')).equals(busybox), 'busybox was rebuilt');
  });
});
