// `salvo inspect ID`: every record of one container (its init and exec'd processes, history included).
import { Command } from 'commander';
import { SalvoError } from '../../errors.js';
import { validateId } from '../../launcher/validate.js';
import type { ProcessRecord } from '../../types.js';
import { contextFrom, listRecords, type GlobalOptions } from '../context.js';
import { formatExit, formatMs } from '../format.js';

export function inspectCommand(globals: () => GlobalOptions): Command {
  return new Command('inspect')
    .summary("show a container's records: state, pid, exit, rusage, timings, error")
    .argument('<id>', 'container id')
    .option('--json', 'one JSON document: { id, records }')
    .addHelpText('after', '\nExamples:\n  $ salvo inspect job-17\n  $ salvo inspect job-17 --json | jq .records[0].exitCode')
    .action(async (id: string, options: { json?: boolean }) => {
      validateId(id, 'container id');
      const context = contextFrom(globals());
      const records = await listRecords(context, { id });
      if (records.length === 0) throw new SalvoError('ERR_NOT_FOUND', `no container ${id} in ${context.stateDir}`);
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify({ id, records }, null, 2)}\n`);
        return;
      }
      process.stdout.write(records.map(describe).join('\n\n') + '\n');
    });
}

function describe(r: ProcessRecord): string {
  const lines: [string, string][] = [
    ['id', r.id],
    ['exec', r.execId],
    ['state', r.state],
    ['pid', r.pid === null ? '-' : String(r.pid)],
    ['exit', formatExit(r)],
    ['subscribed', new Date(r.subscribedAt).toISOString()],
    ['started', r.startedAt === null ? '-' : new Date(r.startedAt).toISOString()],
    ['ended', r.exitedAt === null ? '-' : new Date(r.exitedAt).toISOString()],
    ['wall', r.startedAt !== null && r.exitedAt !== null ? `${formatMs(r.exitedAt - r.subscribedAt)} (start call to exit)` : '-'],
    ['ran', r.startedAt !== null && r.exitedAt !== null ? `${formatMs(r.exitedAt - r.startedAt)} (running to exit)` : '-'],
    [
      'cpu',
      r.rusage === null ? '-' : `user ${r.rusage.userMs.toFixed(1)}ms, system ${r.rusage.systemMs.toFixed(1)}ms, max rss ${r.rusage.maxRssKb} KiB`,
    ],
    ['bundle', r.bundle ?? '-'],
    ['dir', r.dir],
  ];
  if (r.batchId !== null) lines.push(['batch', r.batchId]);
  if (Object.keys(r.labels).length > 0)
    lines.push([
      'labels',
      Object.entries(r.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]);
  if (r.errorCode !== null) lines.push(['error', `${r.errorCode}: ${r.errorMessage ?? ''}`]);
  if (r.runtimeExitCode !== null) lines.push(['runtime exit', String(r.runtimeExitCode)]);
  if (r.cleanup !== undefined) {
    const next = r.cleanup.state === 'pending' ? 'retrying' : 'left for salvo gc';
    lines.push(['delete', `${r.cleanup.state} after ${r.cleanup.attempts} tries (${next}): ${r.cleanup.error}`]);
  }
  return lines.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`).join('\n');
}
