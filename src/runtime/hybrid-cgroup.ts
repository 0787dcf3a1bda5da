// crun 1.8 refuses hosts whose cgroup2 mount (in hybrid mode) has controllers (DESIGN §12).
// The workaround: one long-lived process holds a mount namespace (a slave of the host's, so later
// host mounts show) in which that controllers file is covered by an empty one; each crun call
// enters it through salvo-exec (setns).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** True on a hybrid host (v1 controllers, a cgroup2 mount) whose cgroup2 mount has controllers. */
export function hostHasHybridControllers(cgroupRoot = CGROUP_ROOT): boolean {
  if (existsSync(join(cgroupRoot, 'cgroup.controllers'))) return false; // pure cgroup v2
  try {
    return readFileSync(join(cgroupRoot, 'unified', 'cgroup.controllers'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/** The process that holds the namespace; crun calls are prefixed to run inside it. */
export class HybridCgroupNamespace {
  readonly #child: ChildProcess;
  readonly pid: number;

  private constructor(child: ChildProcess, pid: number) {
    this.#child = child;
    this.pid = pid;
  }

  /** Starts the holder; `scratchDir` receives the empty file that covers the controllers. */
  static async start(scratchDir: string, cgroupRoot = CGROUP_ROOT): Promise<HybridCgroupNamespace> {
    const empty = join(scratchDir, 'empty-cgroup.controllers');
    writeFileSync(empty, '', { mode: 0o444 });
    const controllers = join(cgroupRoot, 'unified', 'cgroup.controllers');
    const script = 'mount --bind "$1" "$2" && echo ready && exec sleep infinity';
    // setpriv --pdeathsig: the holder dies with the launcher's main thread, never outlives it.
    const child = spawn(
      'unshare',
      // slave, not private: mounts made on the host after the launcher opened (a volume of
      // bundles, a state directory) still reach crun; the bind mount below stays in here.
      ['--mount', '--propagation', 'slave', 'setpriv', '--pdeathsig', 'KILL', '--', 'sh', '-c', script, 'salvo-crun-namespace', empty, controllers],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const pid = await waitForReady(child);
    child.unref();
    return new HybridCgroupNamespace(child, pid);
  }

  /** The namespace file that salvo-exec (or nsenter --mount=) enters. */
  get mountNamespace(): string {
    return `/proc/${this.pid}/ns/mnt`;
  }

  /** Kills the holder; resolves once it has exited and been reaped, so that no zombie is left. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.ref(); // unref'd since start: the event loop must stay up until its exit comes
    this.#child.kill('SIGKILL');
    await exited;
  }
}

function waitForReady(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    const fail = (why: string): void => {
      child.kill('SIGKILL');
      reject(new SalvoError('ERR_CGROUP_HYBRID', `cannot set up the private mount namespace crun needs on this hybrid cgroup host: ${why}`));
    };
    const timer = setTimeout(() => fail('timed out after 10 s'), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready') && child.pid !== undefined) {
        clearTimeout(timer);
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(child.pid);
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(`unshare exited with ${code}: ${errors.trim() || 'no output'}`);
    });
  });
}
