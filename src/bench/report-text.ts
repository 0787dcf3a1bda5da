// The bench report for people: hyperfine-style blocks on stdout, one per runtime and concurrency.
import type { BenchReport, PhaseStats } from './macro.js';

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function phaseLine(label: string, p: PhaseStats): string {
  const parts = [
    `${label.padEnd(9)}${String(p.count).padStart(6)} in ${(p.wallMs / 1000).toFixed(2).padStart(6)} s`,
    `${p.startsPerSec.toFixed(1).padStart(6)} starts/s`,
    `latency p50 ${ms(p.latency.p50)} p95 ${ms(p.latency.p95)} p99 ${ms(p.latency.p99)} ms`,
    `cpu ${ms(p.launcherCpuMs)} ms/ctr (runtime ${ms(p.runtimeCpuMs)})`,
  ];
  if (p.peakRssMb !== null) parts.push(`rss ${p.peakRssMb.toFixed(0)} MB`);
  if (p.exitsRecorded !== null) parts.push(`exits ${p.exitsRecorded}/${p.count}`);
  if (p.failures > 0) parts.push(`FAILED ${p.failures}: ${p.firstError ?? ''}`);
  return parts.join('  ');
}

export function formatBenchText(report: BenchReport): string {
  const lines: string[] = [];
  for (const row of report.rows) {
    lines.push(`${row.runtime} (${row.runtimeVersion}), K = ${row.concurrency}`);
    lines.push(`  ${phaseLine('salvo', row.salvo)}`);
    const phases = row.salvo.phases;
    if (phases !== null) {
      lines.push(
        `           phases: queued ${ms(phases.queuedMs)}  prepare ${ms(phases.prepareMs)}  runtime ${ms(phases.runtimeMs)} ms` +
          `  reap-to-record p50 ${ms(phases.reapToRecord.p50)} p99 ${ms(phases.reapToRecord.p99)} ms`,
      );
    }
    if (row.baseline !== null) lines.push(`  ${phaseLine('C driver', row.baseline)}`);
    if (row.nodeBaseline != null) lines.push(`  ${phaseLine('Node drv', row.nodeBaseline)}`);
    const ratio = row.throughputRatio === null ? '' : `throughput salvo/C driver ${row.throughputRatio.toFixed(3)}  `;
    lines.push(`  ${ratio}launcher cpu = ${(row.cpuShare * 100).toFixed(1)}% of the runtime's`);
    lines.push('');
  }
  return lines.join('\n');
}
