// The bench report as one self-contained HTML page: inline SVG charts (throughput per
// concurrency per runtime, CPU per container, start latency distribution) and the full table. No scripts, no fetches.
import { niceTicks, textWidth, tickLabel } from './chart-axis.js';
import type { BenchReport, BenchRow, PhaseStats } from './macro.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SALVO = '#2f6fb3';
const BASELINE = '#b8b8b8';

const WIDTH = 960;

interface BarSeries {
  label: string;
  value: (side: PhaseStats) => number;
  format: (value: number) => string;
}

/** Grouped bars, salvo beside baseline, one group per runtime and concurrency, on round ticks. */
function barChart(rows: readonly BenchRow[], series: BarSeries, note: (row: BenchRow) => string): string {
  const height = 300;
  const ticks = niceTicks(Math.max(...rows.flatMap((r) => [series.value(r.salvo), r.baseline === null ? 0 : series.value(r.baseline)])));
  const labels = ticks.map((t) => tickLabel(t, ticks));
  const left = 28 + Math.max(...labels.map((l) => textWidth(l)));
  const right = 12;
  const bottom = 48;
  const top = 16;
  const max = ticks[ticks.length - 1] as number;
  const group = (WIDTH - left - right) / Math.max(1, rows.length);
  const bar = Math.min(48, group / 3);
  const y = (v: number): number => top + (height - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  ticks.forEach((t, i) => {
    parts.push(`<line x1="${left}" x2="${WIDTH - right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${labels[i]}</text>`);
  });
  rows.forEach((r, i) => {
    const x = left + group * i + group / 2;
    const bars: [number, string, string][] = [[series.value(r.salvo), SALVO, 'salvo']];
    if (r.baseline !== null) bars.push([series.value(r.baseline), BASELINE, 'baseline']);
    bars.forEach(([v, color, label], j) => {
      const bx = x - (bars.length * bar) / 2 + j * bar;
      parts.push(
        `<rect x="${bx}" y="${y(v)}" width="${bar - 2}" height="${y(0) - y(v)}" fill="${color}"><title>${esc(`${r.runtime} K=${r.concurrency} ${label}: ${series.format(v)}`)}</title></rect>`,
      );
    });
    parts.push(`<text x="${x}" y="${height - bottom + 16}" text-anchor="middle">${esc(r.runtime)}</text>`);
    parts.push(`<text x="${x}" y="${height - bottom + 30}" text-anchor="middle">${esc(`K=${r.concurrency}${note(r)}`)}</text>`);
  });
  const middle = top + (height - top - bottom) / 2;
  parts.push(`<text x="12" y="${middle}" transform="rotate(-90 12 ${middle})" text-anchor="middle">${esc(series.label)}</text>`);
  return svg(WIDTH, height, parts);
}

function throughputChart(rows: readonly BenchRow[]): string {
  const series = { label: 'starts/s', value: (p: PhaseStats) => p.startsPerSec, format: (v: number) => `${v.toFixed(1)} starts/s` };
  return barChart(rows, series, (r) => (r.throughputRatio === null ? '' : ` · ${r.throughputRatio.toFixed(2)}×`));
}

/** CPU per container: the launcher's (or baseline driver's) own plus the runtime's and container's. */
function cpuChart(rows: readonly BenchRow[]): string {
  const series = {
    label: 'CPU ms/container',
    value: (p: PhaseStats) => p.launcherCpuMs + p.runtimeCpuMs,
    format: (v: number) => `${v.toFixed(2)} ms CPU per container`,
  };
  return barChart(rows, series, (r) => ` · launcher ${r.salvo.launcherCpuMs.toFixed(1)} ms`);
}

function latencyChart(rows: readonly BenchRow[]): string {
  const lineHeight = 22;
  const entries: [string, PhaseStats, string][] = rows.flatMap((r) => {
    const e: [string, PhaseStats, string][] = [[`${r.runtime} K=${r.concurrency} salvo`, r.salvo, SALVO]];
    if (r.baseline !== null) e.push([`${r.runtime} K=${r.concurrency} baseline`, r.baseline, BASELINE]);
    return e;
  });
  const ticks = niceTicks(Math.max(...entries.map(([, p]) => p.latency.p99)));
  const labels = ticks.map((t) => `${tickLabel(t, ticks)} ms`);
  const left = 16 + Math.max(...entries.map(([label]) => textWidth(label)));
  // The last tick's label is centred on the axis end: leave half of it free on the right.
  const right = 8 + textWidth(labels[labels.length - 1] as string) / 2;
  const height = 48 + entries.length * lineHeight;
  const max = ticks[ticks.length - 1] as number;
  const x = (v: number): number => left + (WIDTH - left - right) * (v / max);
  const parts: string[] = [];
  ticks.forEach((t, i) => {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="10" y2="${height - 24}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t)}" y="${height - 8}" text-anchor="middle">${labels[i]}</text>`);
  });
  entries.forEach(([label, p, color], i) => {
    const cy = 20 + i * lineHeight;
    parts.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${esc(label)}</text>`);
    parts.push(`<line x1="${x(p.latency.p50)}" x2="${x(p.latency.p99)}" y1="${cy}" y2="${cy}" stroke="${color}" stroke-width="3"/>`);
    parts.push(
      `<rect x="${x(p.latency.p50) - 3}" y="${cy - 7}" width="6" height="14" fill="${color}"><title>p50 ${p.latency.p50.toFixed(1)} ms</title></rect>`,
    );
    parts.push(
      `<circle cx="${x(p.latency.p95)}" cy="${cy}" r="4" fill="white" stroke="${color}" stroke-width="2"><title>p95 ${p.latency.p95.toFixed(1)} ms</title></circle>`,
    );
    parts.push(
      `<line x1="${x(p.latency.p99)}" x2="${x(p.latency.p99)}" y1="${cy - 7}" y2="${cy + 7}" stroke="${color}" stroke-width="2"><title>p99 ${p.latency.p99.toFixed(1)} ms</title></line>`,
    );
  });
  return svg(WIDTH, height, parts);
}

/** Scales to the page's width (the viewBox keeps the proportions). */
function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:${width * 1.5}px" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

function table(report: BenchReport): string {
  const head = [
    'runtime',
    'K',
    'side',
    'containers',
    'wall s',
    'starts/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'launcher CPU ms/ctr',
    'runtime CPU ms/ctr',
    'peak RSS MB',
    'exits recorded',
  ];
  const cells = (r: BenchRow, side: string, p: PhaseStats): string[] => [
    r.runtime,
    String(r.concurrency),
    side,
    String(p.count),
    (p.wallMs / 1000).toFixed(2),
    p.startsPerSec.toFixed(1),
    p.latency.p50.toFixed(1),
    p.latency.p95.toFixed(1),
    p.latency.p99.toFixed(1),
    p.launcherCpuMs.toFixed(2),
    p.runtimeCpuMs.toFixed(1),
    p.peakRssMb === null ? '-' : p.peakRssMb.toFixed(0),
    p.exitsRecorded === null ? 'not tracked' : `${p.exitsRecorded}/${p.count}`,
  ];
  const rows = report.rows.flatMap((r) => [cells(r, 'salvo', r.salvo), ...(r.baseline === null ? [] : [cells(r, 'baseline', r.baseline)])]);
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function formatBenchHtml(report: BenchReport): string {
  const m = report.machine;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>salvo bench ${esc(report.date)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1440px;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:nth-child(-n+3){text-align:left}.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style>
</head><body>
<h1>salvo bench</h1>
<p>${esc(`${report.count} containers of /bin/true per row in ${report.rounds} interleaved rounds · ${m.cpus} × ${m.model} · ${m.memoryGb} GiB · Linux ${m.kernel} · Node ${report.versions.node} · salvo ${report.versions.salvo} · ${report.date}`)}</p>
<p>${Object.entries(report.versions.runtimes)
    .map(([k, v]) => esc(`${k}: ${v}`))
    .join(' · ')}</p>
<p class="key"><span style="background:${SALVO}"></span>salvo (every exit recorded)<span style="background:${BASELINE}"></span>bare runtime CLI (run -d, nothing recorded)</p>
<h2>Throughput</h2>${throughputChart(report.rows)}
<h2>CPU per container (launcher + runtime and container)</h2>${cpuChart(report.rows)}
<h2>Start latency (p50 ▮, p95 ○, p99 |)</h2>${latencyChart(report.rows)}
<h2>All numbers</h2>${table(report)}
</body></html>
`;
}
