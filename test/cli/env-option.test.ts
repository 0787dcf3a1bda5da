// -e KEY=VALUE, -e KEY (the host's value) and --env-file, as docker takes them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envFromFlags } from '../../src/cli/env-option.js';
import { dockerHint } from '../../src/cli/docker-hints.js';

describe('envFromFlags', () => {
  it("passes the host's value for a bare KEY and nothing when the host has none", () => {
    assert.deepEqual(envFromFlags(['A=1', 'HOSTY', 'MISSING'], [], { HOSTY: 'yes' }), ['A=1', 'HOSTY=yes']);
  });

  it('reads env files first, skipping comments and blank lines, so that -e wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flg-env-'));
    try {
      const file = join(dir, 'ci.env');
      writeFileSync(file, '# CI settings\nMODE=ci\r\n\nTOKEN\nEMPTY=\n');
      assert.deepEqual(envFromFlags(['MODE=local'], [file], { TOKEN: 't' }), ['MODE=ci', 'TOKEN=t', 'EMPTY=', 'MODE=local']);
      assert.throws(() => envFromFlags([], [join(dir, 'none.env')]), /--env-file .*none\.env cannot be read: ENOENT/);
      writeFileSync(file, 'GOOD=1\nBAD KEY=2\n');
      assert.throws(() => envFromFlags([], [file]), /line 2 takes KEY=VALUE or KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dockerHint', () => {
  it("names salvo's equivalent of a docker flag it does not take", () => {
    assert.match(dockerHint("error: unknown option '--rm'"), /--rm: salvo deletes every container when it exits/);
    assert.match(dockerHint("error: unknown option '-p'"), /--network host/);
    assert.equal(dockerHint("error: unknown option '--frobnicate'"), '');
  });
});
