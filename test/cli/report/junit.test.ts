// The --junit report: counts, names, messages and log tails, always a well-formed document.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JUNIT_FAILURE_LINES, JUNIT_PASS_TAIL_BYTES, JUNIT_TAIL_BYTES, junitXml, readTailSync } from '../../../src/cli/report/junit.js';
import type { JobResult } from '../../../src/types.js';
import { findAll, parseXml, type XmlNode } from '../../xml.js';
import { everyState, jobResult } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'salvo-junit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A readTail over an in-memory map, recording what was asked. */
function fakeLogs(files: Record<string, string>) {
  const calls: [string, number][] = [];
  const readTail = (path: string, maxBytes: number) => {
    calls.push([path, maxBytes]);
    return files[path] ?? '';
  };
  return { readTail, calls };
}

function report(results: readonly JobResult[], files: Record<string, string> = {}) {
  const xml = junitXml(results, { batchId: 'b1', readTail: fakeLogs(files).readTail });
  const root = parseXml(xml);
  const suite = findAll(root, 'testsuite')[0]!;
  return { xml, root, suite, cases: findAll(root, 'testcase') };
}

function only(node: XmlNode, name: string): XmlNode {
  const found = node.children.filter((c) => c.name === name);
  assert.equal(found.length, 1, `one <${name}> in ${node.attributes.name}`);
  return found[0]!;
}

describe('junitXml', () => {
  it('starts with the XML declaration and has one testsuite in testsuites', () => {
    const { xml, root } = report(everyState());
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
    assert.equal(root.name, 'testsuites');
    assert.deepEqual(
      root.children.map((c) => c.name),
      ['testsuite'],
    );
  });

  it('counts tests, failures, errors and skipped in agreement with the testcases', () => {
    const { root, suite, cases } = report(everyState());
    const count = (name: string) => cases.filter((c) => c.children.some((child) => child.name === name)).length;
    for (const node of [root, suite]) {
      assert.equal(node.attributes.tests, String(cases.length));
      assert.equal(node.attributes.failures, String(count('failure')));
      assert.equal(node.attributes.errors, String(count('error')));
      assert.equal(node.attributes.skipped, String(count('skipped')));
    }
    assert.deepEqual([cases.length, count('failure'), count('error'), count('skipped')], [7, 3, 2, 1]);
  });

  it('names the suite salvo.<batchId> by default and takes a given name', () => {
    assert.equal(report(everyState()).suite.attributes.name, 'salvo.b1');
    const named = parseXml(junitXml(everyState(), { batchId: 'b1', suiteName: 'nightly', readTail: () => '' }));
    assert.equal(findAll(named, 'testsuite')[0]!.attributes.name, 'nightly');
  });

  it('gives the suite a zone-less ISO timestamp of when the first job began, and its wall time', () => {
    const { suite } = report(everyState());
    // The timed-out job began first: it ended at …10.000 after 1+2+30+5000 ms.
    assert.equal(suite.attributes.timestamp, new Date(1_700_000_010_000 - 5033).toISOString().slice(0, 19));
    assert.equal(suite.attributes.time, '5.033');
  });

  it('takes the batch start and wall time when given', () => {
    const root = parseXml(junitXml(everyState(), { batchId: 'b1', readTail: () => '', startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), wallMs: 61_000 }));
    const suite = findAll(root, 'testsuite')[0]!;
    assert.equal(suite.attributes.timestamp, '2026-01-02T03:04:05');
    assert.equal(suite.attributes.time, '61.000');
  });

  it('names each testcase by job id with classname salvo.<batchId> and its wall time (prepare, runtime start, run) in seconds', () => {
    const { cases } = report(everyState());
    assert.deepEqual(
      cases.map((c) => [c.attributes.name, c.attributes.classname, c.attributes.time]),
      [
        ['b1-0', 'salvo.b1', '1.532'],
        ['b1-1', 'salvo.b1', '1.532'],
        ['b1-2', 'salvo.b1', '1.532'],
        ['b1-3', 'salvo.b1', '5.032'],
        ['b1-4', 'salvo.b1', '0.032'],
        ['b1-5', 'salvo.b1', '1.532'],
        ['b1-6', 'salvo.b1', '0.000'],
      ],
    );
  });

  it('orders testcases by index whatever order the jobs finished in', () => {
    const shuffled = [3, 6, 0, 5, 1, 4, 2].map((i) => everyState()[i]!);
    assert.deepEqual(
      report(shuffled).cases.map((c) => c.attributes.name),
      ['b1-0', 'b1-1', 'b1-2', 'b1-3', 'b1-4', 'b1-5', 'b1-6'],
    );
  });

  it('maps each state to a pass, failure, error or skipped with its message and type', () => {
    const { cases } = report(everyState());
    const outcome = (c: XmlNode) => c.children.filter((child) => child.name !== 'system-out' && child.name !== 'system-err');
    assert.deepEqual(outcome(cases[0]!), []);
    const rows = cases.slice(1).map((c) => {
      const [node] = outcome(c);
      return [node!.name, node!.attributes.type, node!.attributes.message];
    });
    assert.deepEqual(rows, [
      ['failure', 'exit', 'exit code 3'],
      ['failure', 'signal', 'killed by SIGKILL (exit code 137)'],
      ['failure', 'timeout', 'timed out after 5.0 s; killed by SIGTERM (exit code 143)'],
      ['error', 'ERR_RUNTIME_FAILED', 'exec: "nope": executable file not found in $PATH'],
      ['error', 'lost', 'exit status unknown (lost), recorded as 255'],
      ['skipped', undefined, 'canceled'],
    ]);
  });

  it('says a timed-out job timed out even when no exit was recorded', () => {
    const { cases } = report([
      jobResult({ index: 0, state: 'timedOut', timings: { queuedMs: 0, prepareMs: 0, runtimeMs: 0, runMs: 2500, waitedMs: 0 } }),
    ]);
    assert.equal(only(cases[0]!, 'failure').attributes.message, 'timed out after 2.5 s');
  });

  it('reports a start failure without an error object as an error all the same', () => {
    const { suite, cases } = report([jobResult({ index: 0, state: 'failed' })]);
    assert.equal(suite.attributes.errors, '1');
    assert.equal(only(cases[0]!, 'error').attributes.type, 'ERR_UNKNOWN');
  });

  it("puts the tail of each job's stdout and stderr in system-out and system-err", () => {
    const results = everyState().map((r) => ({ ...r, stdoutPath: `/logs/${r.id}.out`, stderrPath: `/logs/${r.id}.err` }));
    const { readTail, calls } = fakeLogs({ '/logs/b1-1.out': 'line 1\nline 2\n', '/logs/b1-1.err': 'oops\n' });
    const root = parseXml(junitXml(results, { batchId: 'b1', readTail }));
    const failing = findAll(root, 'testcase')[1]!;
    assert.equal(only(failing, 'system-out').text, 'line 1\nline 2\n');
    assert.equal(only(failing, 'system-err').text, 'oops\n');
    assert.ok(calls.every(([path, max]) => max === (path.startsWith('/logs/b1-0.') ? JUNIT_PASS_TAIL_BYTES : JUNIT_TAIL_BYTES) + 1));
    assert.equal(calls.length, 14);
  });

  it('leaves out system-out and system-err when there are no logs or they are empty', () => {
    const results = [jobResult({ index: 0, state: 'exited', exitCode: 0, stdoutPath: '/empty', stderrPath: null })];
    const { xml, cases } = report(results, { '/empty': '' });
    assert.deepEqual(cases[0]!.children, []);
    assert.ok(xml.includes('<testcase name="b1-0" classname="salvo.b1" time="0.032"/>'));
  });

  it('yields a valid document for logs full of markup, control characters and broken text', () => {
    const nasty =
      'a]]>b <tag attr="x"> & &amp; \'q\' "dq"\u0000\u0001\u0007\b\u000b\u000c\u001b[31mred\u001b[0m\u007f\uD800 \uDFFF \uFFFE\uFFFF ok\t\r\n\u{1F600}';
    const results = [jobResult({ index: 0, state: 'exited', exitCode: 1, stdoutPath: '/out', stderrPath: '/err' })];
    const { cases } = report(results, { '/out': nasty, '/err': ']]>' });
    assert.equal(only(cases[0]!, 'system-out').text, 'a]]>b <tag attr="x"> & &amp; \'q\' "dq"red\u007f   ok\t\r\n\u{1F600}');
    assert.equal(only(cases[0]!, 'system-err').text, ']]>');
  });

  it('escapes ids, batch ids and error messages in attributes and keeps their whitespace', () => {
    const results = [
      jobResult({
        index: 0,
        id: `a&b<c>"d'e`,
        state: 'failed',
        error: { code: 'ERR_"X"', message: 'line one\nline\ttwo & <three>\u0000' },
      }),
    ];
    const root = parseXml(junitXml(results, { batchId: `x"&'y`, readTail: () => '' }));
    const testcase = findAll(root, 'testcase')[0]!;
    assert.equal(testcase.attributes.name, `a&b<c>"d'e`);
    assert.equal(testcase.attributes.classname, `salvo.x"&'y`);
    assert.deepEqual(only(testcase, 'error').attributes, { message: 'line one\nline\ttwo & <three>', type: 'ERR_"X"' });
  });

  it('writes an empty suite for an empty batch', () => {
    const { suite, cases } = report([]);
    assert.equal(cases.length, 0);
    assert.deepEqual(
      ['tests', 'failures', 'errors', 'skipped', 'time'].map((a) => suite.attributes[a]),
      ['0', '0', '0', '0', '0.000'],
    );
  });

  it('reads real log files by default, keeping only their tail from a line boundary and saying it was cut', () => {
    const out = join(dir, 'big.out');
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    writeFileSync(out, `${lines.join('\n')}\nTHE END\n`);
    const results = [jobResult({ index: 0, state: 'exited', exitCode: 2, stdoutPath: out, stderrPath: join(dir, 'missing.err') })];
    const root = parseXml(junitXml(results, { batchId: 'b1' }));
    const testcase = findAll(root, 'testcase')[0]!;
    const text = only(testcase, 'system-out').text;
    const [notice, first] = text.split('\n');
    assert.equal(notice, `[salvo: the start of this log was cut; the whole log is ${out}]`);
    assert.match(first!, /^line \d+$/, 'the kept part starts with a whole line');
    assert.ok(Buffer.byteLength(text) - notice!.length - 1 <= JUNIT_TAIL_BYTES);
    assert.ok(text.endsWith('line 19999\nTHE END\n'));
    assert.equal(findAll(testcase, 'system-err').length, 0);
  });

  it('gives a failure the reason and the last lines of stderr as its text', () => {
    const err = Array.from({ length: 30 }, (_, i) => `err ${i}`).join('\n');
    const results = [jobResult({ index: 0, state: 'exited', exitCode: 3, stdoutPath: null, stderrPath: '/e' })];
    const failure = only(report(results, { '/e': `${err}\n` }).cases[0]!, 'failure');
    const expected = ['exit code 3', '', `last ${JUNIT_FAILURE_LINES} lines of stderr:`, ...Array.from({ length: 20 }, (_, i) => `err ${i + 10}`)];
    assert.equal(failure.text, expected.join('\n'));
    const quiet = only(report([jobResult({ index: 0, state: 'exited', exitCode: 1 })]).cases[0]!, 'failure');
    assert.equal(quiet.text, 'exit code 1');
  });

  it('keeps a short tail only for passing jobs', () => {
    const { readTail, calls } = fakeLogs({});
    const results = [
      jobResult({ index: 0, state: 'exited', exitCode: 0, stdoutPath: '/pass.out', stderrPath: null }),
      jobResult({ index: 1, state: 'exited', exitCode: 1, stdoutPath: '/fail.out', stderrPath: null }),
    ];
    junitXml(results, { batchId: 'b1', readTail });
    assert.deepEqual(calls, [
      ['/pass.out', JUNIT_PASS_TAIL_BYTES + 1],
      ['/fail.out', JUNIT_TAIL_BYTES + 1],
    ]);
  });
});

describe('readTailSync', () => {
  it('returns a whole file smaller than the limit', () => {
    const path = join(dir, 'small.log');
    writeFileSync(path, 'hello\n');
    assert.equal(readTailSync(path, 1024), 'hello\n');
  });

  it('returns the last bytes of a larger file', () => {
    const path = join(dir, 'digits.log');
    writeFileSync(path, '0123456789');
    assert.equal(readTailSync(path, 4), '6789');
  });

  it('does not start with half a character when the cut falls inside one', () => {
    const path = join(dir, 'utf8.log');
    writeFileSync(path, 'aé€😀');
    // é is 2 bytes, € 3, 😀 4: the last 6 bytes start inside the €.
    assert.equal(readTailSync(path, 6), '😀');
    assert.equal(readTailSync(path, 7), '€😀');
  });

  it('returns an empty string for a missing file or a missing directory', () => {
    assert.equal(readTailSync(join(dir, 'nope.log'), 10), '');
    assert.equal(readTailSync(join(dir, 'small.log', 'below'), 10), '');
  });

  it('returns an empty string for an empty file', () => {
    const path = join(dir, 'empty.log');
    writeFileSync(path, '');
    assert.equal(readTailSync(path, 10), '');
  });
});
