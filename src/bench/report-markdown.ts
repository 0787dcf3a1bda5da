// The bench report as a Markdown table, e.g. for a CI step summary.
import type { BenchReport } from './macro.js';

const f = (v: number, digits = 1): string => v.toFixed(digits);

export function formatBenchMarkdown(report: BenchReport): string {
  const head =
    '| runtime | K | salvo starts/s | C driver starts/s | ratio | Node driver starts/s | p50 / p95 / p99 ms (salvo) | p50 / p95 / p99 ms (C driver) | launcher CPU ms/ctr | C driver CPU ms/ctr | runtime CPU ms/ctr (salvo / C driver) | CPU share | peak RSS MB | reap-to-record p99 ms | exits |\n' +
    '|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|---:|---:|---:|---:|';
  const rows = report.rows.map((r) => {
    const b = r.baseline;
    const lat = (p: typeof r.salvo): string => `${f(p.latency.p50)} / ${f(p.latency.p95)} / ${f(p.latency.p99)}`;
    return [
      r.runtime,
      r.concurrency,
      f(r.salvo.startsPerSec),
      b === null ? '-' : f(b.startsPerSec),
      r.throughputRatio === null ? '-' : f(r.throughputRatio, 3),
      r.nodeBaseline == null ? '-' : f(r.nodeBaseline.startsPerSec),
      lat(r.salvo),
      b === null ? '-' : lat(b),
      f(r.salvo.launcherCpuMs, 2),
      b === null ? '-' : f(b.launcherCpuMs, 2),
      `${f(r.salvo.runtimeCpuMs, 1)} / ${b === null ? '-' : f(b.runtimeCpuMs, 1)}`,
      `${f(r.cpuShare * 100)}%`,
      r.salvo.peakRssMb === null ? '-' : f(r.salvo.peakRssMb, 0),
      r.salvo.phases === null ? '-' : f(r.salvo.phases.reapToRecord.p99, 2),
      `${r.salvo.exitsRecorded ?? '-'}/${r.salvo.count}`,
    ].join(' | ');
  });
  const caption =
    `salvo bench: ${report.count} containers of /bin/true per row, ${report.rounds} interleaved rounds; ` +
    `${report.machine.cpus} × ${report.machine.model}, Linux ${report.machine.kernel}, Node ${report.versions.node}, ${report.date}`;
  return `${caption}\n\n${head}\n${rows.map((r) => `| ${r} |`).join('\n')}\n`;
}
