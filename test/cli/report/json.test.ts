// The --json batch document and --ndjson event lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchDocument, ndjsonLine } from '../../../src/cli/report/json.js';
import { summarize } from '../../../src/cli/report/summary.js';
import { everyState } from './fixtures.js';

describe('batchDocument', () => {
  it('holds the batch id, the summary and the jobs sorted by index', () => {
    const results = everyState().reverse();
    const summary = summarize(results, 100);
    const doc = batchDocument('b1', results, summary);
    assert.equal(doc.batchId, 'b1');
    assert.deepEqual(doc.summary, summary);
    assert.deepEqual(
      doc.jobs.map((j) => j.index),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  it("leaves the caller's array in its order", () => {
    const results = everyState().reverse();
    batchDocument('b1', results, summarize(results, 1));
    assert.equal(results[0]!.index, 6);
  });

  it('survives a JSON round trip unchanged', () => {
    const results = everyState();
    const doc = batchDocument('b1', results, summarize(results, 1));
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });
});

describe('ndjsonLine', () => {
  it('is the event as JSON on exactly one line ending in a newline', () => {
    const event = { type: 'finished', index: 4, id: 'multi\nline\u2028id', result: everyState()[4] };
    const line = ndjsonLine(event);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.deepEqual(JSON.parse(line), event);
  });
});
