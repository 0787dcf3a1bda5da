// Unknown spec fields (issue 14 §8): the API refuses them as the CLI does, naming the field and
// the nearest known one; every field the types declare is accepted.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/cli/exit-codes.js';
import { validateJobLine } from '../../src/cli/jobs-file.js';
import { SalvoError } from '../../src/errors.js';
import { EXEC_FIELDS, JOB_FIELDS, START_FIELDS } from '../../src/launcher/spec-fields.js';
import { normalizeExecSpec } from '../../src/launcher/validate-lifecycle.js';
import { normalizeStartSpec } from '../../src/launcher/validate.js';
import type { JobResult, StartSpec } from '../../src/types.js';
import { RUNTIMES, openLauncher, removeTempDirs } from '../helpers.js';

after(removeTempDirs);

/** Asserts ERR_INVALID_SPEC naming `field`, and the hint (a suggestion or the known list). */
function refusedField(fn: () => unknown, field: string, hint: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SalvoError, `not a SalvoError: ${String(error)}`);
    assert.equal(error.code, 'ERR_INVALID_SPEC');
    assert.ok(error.message.includes(`unknown field "${field}"`), error.message);
    assert.match(error.message, hint);
    assert.equal(error.details.field, field);
    return true;
  });
}

describe('unknown fields of a start spec', () => {
  it('refuses a misspelt field and suggests the field it resembles', () => {
    refusedField(() => normalizeStartSpec({ id: 'spf-a', argz: ['/bin/true'] } as unknown as StartSpec), 'argz', /did you mean "args"\?/);
    refusedField(() => normalizeStartSpec({ id: 'spf-a', pidLimit: 5 } as unknown as StartSpec), 'pidLimit', /did you mean "pidsLimit"\?/);
    refusedField(() => normalizeStartSpec({ id: 'spf-a', Env: {} } as unknown as StartSpec), 'Env', /did you mean "env"\?/);
  });

  it('lists the known fields when nothing is close', () => {
    refusedField(() => normalizeStartSpec({ id: 'spf-a', restartPolicy: 'always' } as unknown as StartSpec), 'restartPolicy', /known: id, bundle/);
  });

  it('takes a field set to undefined as absent', () => {
    assert.equal(normalizeStartSpec({ id: 'spf-a', whatever: undefined } as unknown as StartSpec).id, 'spf-a');
  });

  it('accepts every field salvo reads, each with a valid value', () => {
    const every: Required<Omit<StartSpec, 'image' | 'entrypoint' | 'checkpoint'>> = {
      id: 'spf-all',
      bundle: '/tmp',
      readOnly: true,
      args: ['/bin/true'],
      env: { A: '1' },
      cwd: '/',
      terminal: true,
      terminalSize: { cols: 100, rows: 30 },
      consoleSocket: '/tmp/spf-console.sock',
      stdio: 'log',
      fifoHandoff: async () => undefined,
      stdin: '/dev/null',
      noPivot: false,
      noNewKeyring: false,
      labels: { a: 'b' },
      signal: new AbortController().signal,
      startMode: 'run',
      batchId: 'b1',
      volumes: ['/tmp:/mnt:ro'],
      mounts: ['type=tmpfs,dst=/scratch'],
      tmpfs: ['/run'],
      user: '1000:1000',
      hostname: 'spf',
      network: 'none',
      memory: '64m',
      cpus: 1,
      pidsLimit: 10,
      capAdd: ['CHOWN'],
      capDrop: ['ALL'],
      init: true,
      hostPid: false,
    };
    assert.equal(normalizeStartSpec(every).id, 'spf-all');
    assert.equal(normalizeStartSpec({ id: 'spf-img', image: 'oci:/nowhere', entrypoint: ['/bin/sh'] }).image?.ref, 'oci:/nowhere');
    assert.equal(normalizeStartSpec({ id: 'spf-cp', checkpoint: { name: 'cp1' } }).checkpoint?.name, 'cp1');
    assert.deepEqual(
      [...START_FIELDS].sort(),
      [...Object.keys(every), 'image', 'entrypoint', 'checkpoint'].sort(),
      'the list is the type: one entry per field',
    );
  });
});

describe('unknown fields of an exec spec and of a jobs file line', () => {
  it('refuses an exec spec field salvo does not know', () => {
    refusedField(() => normalizeExecSpec({ args: ['/bin/true'], cmd: ['x'] } as never), 'cmd', /did you mean "cwd"\?|known:/);
    assert.deepEqual(normalizeExecSpec({ args: ['/bin/true'], execId: 'e1' }).execId, 'e1');
    assert.ok(EXEC_FIELDS.includes('execId'));
  });

  it('refuses a jobs file line with a misspelt field, naming the line and the nearest field', () => {
    assert.throws(
      () => validateJobLine({ args: ['/bin/true'], timeout: 5 }, 7, () => true),
      (error: unknown) => error instanceof UsageError && /^line 7: .*unknown field "timeout" \(did you mean "timeoutMs"\?\)/.test(error.message),
    );
  });

  it('accepts in a jobs file every field of a batch job that is data (all but fifoHandoff)', () => {
    const line = { args: ['/bin/true'], timeoutMs: 5, terminalSize: { cols: 80, rows: 24 }, checkpoint: { name: 'cp' }, init: false };
    assert.equal(validateJobLine(line, 1, () => true).timeoutMs, 5);
    assert.ok(JOB_FIELDS.includes('timeoutMs') && !(JOB_FIELDS as readonly string[]).includes('signal'));
  });
});

for (const runtime of RUNTIMES) {
  describe(`unknown fields through the launcher (${runtime})`, { timeout: 120_000 }, () => {
    it('refuses start() and a batch job with an unknown field before any record exists; the other jobs run', async () => {
      const launcher = await openLauncher(runtime);
      try {
        await assert.rejects(
          launcher.start({ id: 'spf-start', args: ['/bin/true'], timeoutMs: 5 } as StartSpec),
          (error: SalvoError) => error.code === 'ERR_INVALID_SPEC' && /unknown field "timeoutMs"/.test(error.message),
        );
        const results: JobResult[] = [];
        const jobs = [
          { id: 'spf-ok', args: ['/bin/true'] },
          { id: 'spf-typo', args: ['/bin/true'], capsAdd: ['CHOWN'] },
          { id: 'spf-sig', args: ['/bin/true'], batchId: 'mine' },
        ];
        for await (const result of launcher.batch(jobs as never)) results.push(result);
        const byId = new Map(results.map((r) => [r.id, r]));
        assert.equal(byId.get('spf-ok')?.state, 'exited');
        assert.equal(byId.get('spf-typo')?.state, 'failed');
        assert.equal(byId.get('spf-typo')?.error?.code, 'ERR_INVALID_SPEC');
        assert.match(byId.get('spf-typo')?.error?.message ?? '', /unknown field "capsAdd" \(did you mean "capAdd"\?\)/);
        assert.equal(byId.get('spf-sig')?.error?.code, 'ERR_INVALID_SPEC', 'a job does not set its batch id');
        assert.deepEqual(
          launcher.list().map((r) => r.id),
          ['spf-ok'],
          'nothing refused was recorded',
        );
      } finally {
        await launcher.close();
      }
    });
  });
}
