// The bench report writers: text, Markdown and the self-contained HTML page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchReport, PhaseStats } from '../../src/bench/macro.js';
import { formatBenchHtml } from '../../src/bench/report-html.js';
import { formatBenchMarkdown } from '../../src/bench/report-markdown.js';
import { formatBenchText } from '../../src/bench/report-text.js';
import { parseXml, findAll } from '../xml.js';

function phase(startsPerSec: number, exits: number | null): PhaseStats {
  return {
    count: 100,
    wallMs: (100 / startsPerSec) * 1000,
    startsPerSec,
    latency: { p50: 40, p95: 60, p99: 80, max: 90, mean: 45 },
    phases: exits === null ? null : { queuedMs: 1, prepareMs: 2, runtimeMs: 40, reapToRecord: { p50: 0.5, p95: 1, p99: 1.5, max: 2, mean: 0.6 } },
    launcherCpuMs: exits === null ? 2.5 : 6,
    runtimeCpuMs: 40,
    peakRssMb: exits === null ? null : 90,
    exitsRecorded: exits,
    failures: 0,
    firstError: null,
  };
}

const report: BenchReport = {
  date: '2026-11-28T00:00:00.000Z',
  machine: { cpus: 2, model: 'Test <CPU> & co', memoryGb: 24, kernel: '6.18' },
  versions: { node: 'v20', salvo: '0.1.0', runtimes: { runc: 'runc version 1.1.5', crun: 'crun version 1.8.1' } },
  count: 100,
  rounds: 4,
  concurrencies: [1, 4],
  rows: [
    { runtime: 'runc', runtimeVersion: 'runc version 1.1.5', concurrency: 1, salvo: phase(20, 100), baseline: phase(25, null), nodeBaseline: phase(17, null), throughputRatio: 0.8, cpuShare: 0.15 },
    { runtime: 'crun', runtimeVersion: 'crun version 1.8.1', concurrency: 4, salvo: phase(50, 100), baseline: phase(52, null), throughputRatio: 50 / 52, cpuShare: 0.15 },
  ],
};

describe('bench reports', () => {
  it('prints a block per row with both sides and the ratio', () => {
    const text = formatBenchText(report);
    assert.match(text, /runc \(runc version 1\.1\.5\), K = 1/);
    assert.match(text, /throughput salvo\/C driver 0\.800/);
    assert.match(text, /Node drv +100 in +5\.88 s/);
    assert.match(text, /exits 100\/100/);
  });

  it('writes one Markdown table row per runtime and concurrency', () => {
    const rows = formatBenchMarkdown(report).split('\n').filter((line) => line.startsWith('| runc') || line.startsWith('| crun'));
    assert.equal(rows.length, 2);
    assert.match(rows[1] ?? '', /\| 0\.962 \|/);
  });

  it('writes a self-contained HTML page whose SVG charts are well-formed and whose text is escaped', () => {
    const html = formatBenchHtml(report);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, nothing fetched');
    assert.match(html, /Test &#60;CPU&#62; &#38; co/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 2);
    for (const svg of svgs) parseXml(svg);
    const bars = findAll(parseXml(svgs[0] ?? ''), 'rect');
    assert.equal(bars.length, 4, 'salvo and baseline bars for each row');
  });
});
