// A runtime that misbehaves on purpose: a shell script in front of the real runc or crun.
// For `run` and `create` of a container whose id starts with
//   hang-  it never returns (exec sleep): the runtime hung before making anything;
//   late-  it runs the real command (the container starts, the pid file is written), then never
//          returns: the runtime hung after the container was running.
// Before it sleeps it writes its pid to <marks>/<id>.pid. Every other call is the real runtime.
// It replaces itself with sleep (exec), so it stays the process salvo-exec gave a parent-death signal.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRuntime } from '../../src/runtime/resolve.js';

export interface FakeRuntime {
  /** Pass as the launcher's runtime (its basename is the real one's, so is its --root). */
  path: string;
  /** Where the hung calls leave their pids. */
  marks: string;
}

export function writeFakeRuntime(dir: string, real: string): FakeRuntime {
  const realPath = resolveRuntime(real).path;
  const marks = join(dir, 'marks');
  mkdirSync(marks, { recursive: true });
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const path = join(bin, real);
  const script = `#!/bin/sh
for id; do :; done
case " $* " in
  *" run "*|*" create "*)
    case "$id" in
      hang-*) echo $$ > "${marks}/$id.pid"; exec sleep 3600 ;;
      late-*) "${realPath}" "$@"; echo $$ > "${marks}/$id.pid"; exec sleep 3600 ;;
    esac ;;
esac
exec "${realPath}" "$@"
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return { path, marks };
}

/** The pid a hung call of the fake runtime left for container `id`, or null while it has not hung yet. */
export function hungRuntimePid(fake: FakeRuntime, id: string): number | null {
  const file = join(fake.marks, `${id}.pid`);
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
