// `salvo ps`: what runs (or, with --all, every record), from the store, beside a running launcher.
import { Command } from 'commander';
import { INIT_EXEC_ID } from '../../io/process-dir.js';
import type { ProcessRecord, RecordState } from '../../types.js';
import { contextFrom, listRecords, type GlobalOptions } from '../context.js';
import { parsePositiveInteger } from '../duration.js';
import { formatAgo, formatExit, formatMs, recordWallMs, table } from '../format.js';

interface PsOptions {
  all?: boolean;
  json?: boolean;
  limit?: string;
}

const LIVE: readonly RecordState[] = ['subscribed', 'running'];

export function psCommand(globals: () => GlobalOptions): Command {
  return new Command('ps')
    .summary('list running containers (or all records with --all)')
    .description(
      "Lists the containers salvo is running in this state directory, exec'd processes under their container, as the serving launcher sees them (started if none serves the directory).",
    )
    .option('-a, --all', 'every record, finished ones included')
    .option('--limit <n>', 'with --all: only the newest n records')
    .option('--json', 'one JSON document (an array of records)')
    .addHelpText('after', "\nExamples:\n  $ salvo ps\n  $ salvo ps --all --limit 20\n  $ salvo ps --json | jq '.[].id'")
    .action(async (options: PsOptions) => {
      const context = contextFrom(globals());
      // Without --all: the live ones, and the finished ones whose runtime delete failed (until it is gone).
      let records = await listRecords(context, options.all === true ? { withCleanup: true } : { states: LIVE, withCleanup: true });
      if (options.limit !== undefined) records = records.slice(-parsePositiveInteger(options.limit, '--limit'));
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${formatRecords(records)}\n`);
    });
}

/** Containers first, each followed by its exec'd processes. */
export function formatRecords(records: readonly ProcessRecord[], now = Date.now()): string {
  const ordered = [...records].sort(
    (a, b) => a.id.localeCompare(b.id) || (a.execId === INIT_EXEC_ID ? -1 : b.execId === INIT_EXEC_ID ? 1 : a.seq - b.seq),
  );
  const rows = [['ID', 'EXEC', 'STATE', 'PID', 'EXIT', 'STARTED', 'RAN']];
  for (const r of ordered) {
    const wall = recordWallMs(r, now);
    const ran = wall === null ? '-' : formatMs(wall);
    rows.push([
      r.execId === INIT_EXEC_ID ? r.id : `  └ ${r.id}`,
      r.execId,
      r.cleanup === undefined ? r.state : `${r.state}, delete ${r.cleanup.state}`,
      r.pid === null ? '-' : String(r.pid),
      formatExit(r),
      formatAgo(r.startedAt, now),
      ran,
    ]);
  }
  return table(rows);
}
