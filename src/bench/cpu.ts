// CPU and memory readings for benchmarks, from /proc (clock ticks are 10 ms: fine over a run).
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU of the children this process has waited for (runtimes, reaped containers), ms. */
export function childrenCpuMs(): number {
  const text = readFileSync('/proc/self/stat', 'latin1');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[n - 3] is field n: 16 cutime, 17 cstime.
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) * TICK_MS;
}

/** This process's own CPU (all its threads), ms. */
export function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Samples the resident set size until stopped; returns the peak in bytes. */
export function sampleRss(intervalMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  timer.unref();
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}
