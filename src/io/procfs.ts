// /proc parsing shared by the main thread and workers: process start time, state, children.
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { isExhaustion } from './exhaustion.js';

export interface ProcStat {
  /** The executable's name, at most 15 characters. */
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22: start time in clock ticks since boot; with the pid, a process's identity. */
  startTime: number;
  /** Field 32: the blocked mask of signals 1-31 (bit n-1 for signal n). */
  blockedSignals: number;
}

// /proc files report size 0, so readFileSync grows fresh buffers for each: read into one instead.
const procBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A /proc file's text, or null when it does not exist (the process or thread has gone). Throws
 * when no fd is free (EMFILE, ENFILE): that says nothing about the process, so callers retry or skip.
 */
export function readProcFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isExhaustion(error)) throw error;
    return null;
  }
  try {
    let length = 0;
    for (;;) {
      const read = readSync(fd, procBuffer, length, procBuffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length === procBuffer.length) return readFileSync(path, 'latin1'); // larger than the buffer: rare
    }
    return procBuffer.toString('latin1', 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Parses /proc/<pid>/stat, or returns null when the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  const text = readProcFile(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
}

/**
 * The fields of a /proc/<pid>/stat text after the comm, which may hold spaces and parentheses
 * (so they are counted after the last ')'): fields[0] is field 3 (state), field n is fields[n - 3].
 */
export function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(')');
  return close < 0 ? null : text.slice(close + 2).split(' ');
}

export function parseProcStat(text: string): ProcStat | null {
  const fields = statFields(text);
  if (fields === null) return null;
  const startTime = Number(fields[22 - 3]);
  const ppid = Number(fields[4 - 3]);
  const pgrp = Number(fields[5 - 3]);
  const session = Number(fields[6 - 3]);
  if (!Number.isFinite(startTime) || !Number.isFinite(ppid)) return null;
  const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  const blockedSignals = Number(fields[32 - 3] ?? 0);
  return { comm, state: fields[0] ?? '?', ppid, pgrp, session, startTime, blockedSignals: Number.isFinite(blockedSignals) ? blockedSignals : 0 };
}

/** Children of every thread of this process (/proc/self/task/<tid>/children). */
export function listChildren(tids?: readonly number[]): number[] {
  const children: number[] = [];
  const threads = tids ?? readdirSync('/proc/self/task').map(Number);
  for (const tid of threads) {
    let text: string | null;
    try {
      text = readProcFile(`/proc/self/task/${tid}/children`);
    } catch {
      continue; // no fd free: this sweep sees less, the next one more
    }
    if (text === null) continue; // the thread ended
    for (const part of text.split(' ')) if (part !== '' && part !== '\n') children.push(Number(part));
  }
  return children;
}

/** The pid of this process's main thread is the process id; its children file holds re-parented orphans. */
export function listMainThreadChildren(): number[] {
  return listChildren([process.pid]);
}

export const USER_HZ = 100; // clock ticks per second in /proc/<pid>/stat on Linux (fixed ABI value)
let bootTimeMs: number | undefined;

/** Wall-clock time (ms since the epoch) of a start time in clock ticks since boot. */
export function startTimeToEpochMs(startTicks: number): number {
  if (bootTimeMs === undefined) {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    bootTimeMs = match === null ? 0 : Number(match[1]) * 1000;
  }
  return bootTimeMs + (startTicks * 1000) / USER_HZ;
}

/** This thread's scheduler totals: ns on a CPU and ns runnable but waiting for one. */
export interface Schedstat {
  onCpuNs: number;
  waitingNs: number;
}

/** Reads /proc/thread-self/schedstat (null where the kernel has no schedstats). */
export function readThreadSchedstat(): Schedstat | null {
  const text = readProcFile('/proc/thread-self/schedstat');
  const [onCpu, waiting] = (text ?? '').split(' ').map(Number);
  return onCpu === undefined || waiting === undefined || Number.isNaN(onCpu) || Number.isNaN(waiting) ? null : { onCpuNs: onCpu, waitingNs: waiting };
}
