// `salvo fleet status`: the queue's counts and its live workers. bullmq loads only when it runs.
import { Command } from 'commander';
import { formatMs } from '../format.js';
import { queueOption, redisOption } from './worker.js';

export function fleetCommand(): Command {
  const fleet = new Command('fleet').summary('look at a fleet of salvo workers (docs/fleet.md)');
  fleet
    .command('status')
    .description('Waiting, active, completed and failed job counts of the queue, and the workers connected to it now.')
    .addOption(redisOption())
    .addOption(queueOption())
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExample:\n  $ salvo fleet status --redis redis://127.0.0.1:6379 --queue ci')
    .action(async (options: { redis: string; queue: string; json?: boolean }) => {
      const { fleetStatus } = await import('../../fleet/index.js');
      const status = await fleetStatus({ redis: options.redis, queue: options.queue });
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const c = status.counts;
      const lines = [
        `queue ${status.queue}: ${c.waiting} waiting, ${c.active} active, ${c.completed} completed, ${c.failed} failed` +
          (c.delayed > 0 ? `, ${c.delayed} delayed` : ''),
        `workers: ${status.workers.length}`,
      ];
      for (const w of status.workers) {
        const i = w.info;
        lines.push(
          i === null
            ? `  ${w.name || '(unnamed)'}  ${w.addr ?? ''}  (no salvo heartbeat)`
            : `  ${w.name}  concurrency ${i.concurrency}  running ${i.running ?? 0}  ${i.runtime}  ${i.host} pid ${i.pid}  up ${formatMs(Date.now() - i.startedAt)}`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  return fleet;
}
