// CRIU's own words in a failed checkpoint or restore: the error lines of dump.log / restore.log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criuErrors, describeCriuFailure } from '../../src/runtime/criu-log.js';

// An excerpt of a real dump.log from this kernel (CRIU 3.17.1), where CRIU cannot parse the vDSO.
const DUMP_LOG = `(00.000904) Version: 3.17.1 (gitid 0)
(00.002110) Error (criu/util.c:642): exited, status=1
(00.002995) Error (criu/util.c:642): exited, status=1
(00.003089) Pagemap is fully functional
(00.017144) vdso: nbucket 3 nchain e bucket 7ff121374128 chain 7ff121374134
(00.017147) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds
(00.017151) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable
(00.017153) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.
(00.017189) Adjust mmap_min_addr 0x1000 -> 0x10000
`;

describe('criuErrors', () => {
  it('takes the distinct Error lines without their timestamps, in order', () => {
    assert.deepEqual(criuErrors(DUMP_LOG), [
      'Error (criu/util.c:642): exited, status=1',
      'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
      'Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
      'Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
    ]);
  });

  it('keeps the last ones when there are more than asked for', () => {
    assert.deepEqual(criuErrors(DUMP_LOG, 1), ['Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.']);
  });

  it('finds nothing in a log without errors or in no log', () => {
    assert.deepEqual(criuErrors('(00.1) Version: 3.17.1\n(00.2) Dumping finished successfully\n'), []);
    assert.deepEqual(criuErrors(''), []);
  });
});

describe('describeCriuFailure', () => {
  it("puts runc's message on one line and adds CRIU's errors and where its log is", () => {
    const message = describeCriuFailure('criu failed: type DUMP errno 0\nlog file: dump.log', '/cp/dump.log', DUMP_LOG);
    assert.equal(message.split('\n').length, 1);
    assert.match(message, /^criu failed: type DUMP errno 0 log file: dump\.log — CRIU \(\/cp\/dump\.log\): /);
    assert.match(message, /vdso: Failed to fill self vdso symtable/);
  });

  it("keeps the runtime's message alone when CRIU logged no error", () => {
    assert.equal(describeCriuFailure('container is not running', '/cp/dump.log', ''), 'container is not running');
  });

  it('says that a runtime without the verb was built without CRIU support', () => {
    assert.equal(
      describeCriuFailure('unknown command checkpoint', '/cp/dump.log', ''),
      'unknown command checkpoint (this runtime was built without CRIU support)',
    );
  });
});
