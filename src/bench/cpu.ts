// CPU and memory readings for benchmarks, from /proc (clock ticks are 10 ms: fine over a run).
import { USER_HZ, readProcFile, statFields } from '../io/procfs.js';

/** CPU of the children this process has waited for (runtimes, reaped containers), ms. */
export function childrenCpuMs(): number {
  const fields = statFields(readProcFile('/proc/self/stat') ?? '') ?? [];
  // Fields 16 cutime and 17 cstime, in clock ticks.
  return ((Number(fields[16 - 3]) + Number(fields[17 - 3])) * 1000) / USER_HZ;
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
