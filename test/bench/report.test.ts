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
    {
      runtime: 'runc',
      runtimeVersion: 'runc version 1.1.5',
      concurrency: 1,
      salvo: phase(20, 100),
      baseline: phase(25, null),
      nodeBaseline: phase(17, null),
      throughputRatio: 0.8,
      cpuShare: 0.15,
    },
    {
      runtime: 'crun',
      runtimeVersion: 'crun version 1.8.1',
      concurrency: 4,
      salvo: phase(50, 100),
      baseline: phase(52, null),
      throughputRatio: 50 / 52,
      cpuShare: 0.15,
    },
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
    const rows = formatBenchMarkdown(report)
      .split('\n')
      .filter((line) => line.startsWith('| runc') || line.startsWith('| crun'));
    assert.equal(rows.length, 2);
    assert.match(rows[1] ?? '', /\| 0\.962 \|/);
  });

  it('writes a self-contained HTML page whose SVG charts are well-formed and whose text is escaped', () => {
    const html = formatBenchHtml(report);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, nothing fetched');
    assert.match(html, /Test &#60;CPU&#62; &#38; co/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 3, 'throughput, CPU per container, latency');
    for (const svg of svgs) parseXml(svg);
    for (const chart of [svgs[0], svgs[1]]) {
      const bars = findAll(parseXml(chart ?? ''), 'rect');
      assert.equal(bars.length, 4, 'salvo and baseline bars for each row');
    }
    assert.match(svgs[1] ?? '', /<title>runc K=1 salvo: 46\.00 ms CPU per container<\/title>/);
  });

  it('draws round axis ticks and keeps every label inside its chart, which scales to the page width', () => {
    const wide: BenchReport = {
      ...report,
      rows: report.rows.map((row, i) => ({
        ...row,
        runtime: i === 0 ? '/usr/local/sbin/a-long-runtime-name' : row.runtime,
        salvo: { ...row.salvo, startsPerSec: 1234.5, latency: { ...row.salvo.latency, p99: 873.2 } },
      })),
    };
    const svgs = formatBenchHtml(wide).match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    for (const svg of svgs) {
      const root = parseXml(svg);
      assert.equal(root.attributes.width, '100%');
      const [, , width, height] = (root.attributes.viewBox ?? '').split(' ').map(Number);
      const ticks: number[] = [];
      for (const label of findAll(root, 'text')) {
        const text = label.text;
        const x = Number(label.attributes.x);
        const y = Number(label.attributes.y);
        // 12px sans-serif: no glyph is wider than 0.62 em on average.
        const w = text.length * 12 * 0.62;
        const anchor = label.attributes['text-anchor'];
        const [from, to] = anchor === 'end' ? [x - w, x] : anchor === 'middle' ? [x - w / 2, x + w / 2] : [x, x + w];
        if (label.attributes.transform === undefined) {
          assert.ok(from >= 0 && to <= width!, `"${text}" (${from.toFixed(0)}–${to.toFixed(0)}) fits in 0–${width}`);
          assert.ok(y > 0 && y <= height!, `"${text}" fits vertically`);
        }
        const tick = /^(\d+(?:\.\d+)?)(?: ms)?$/.exec(text);
        if (tick !== null) ticks.push(Number(tick[1]));
      }
      assert.ok(ticks.length >= 3, 'an axis with ticks');
      const step = ticks[1]! - ticks[0]!;
      const magnitude = 10 ** Math.floor(Math.log10(step));
      assert.ok([1, 2, 2.5, 5].includes(Number((step / magnitude).toPrecision(3))), `round step ${step}`);
      ticks.forEach((t, i) => assert.ok(Math.abs(t - i * step) < 1e-9, `tick ${t} is ${i} steps of ${step}`));
    }
  });
});
