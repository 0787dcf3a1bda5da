// `salvo images`: the state directory's image cache (ref, digest, size, last use, containers
// using it); `salvo images prune` removes the images no live container uses.
import { Command } from 'commander';
import { ImageCache } from '../../image/cache.js';
import { LIVE_STATES, usersByDigest } from '../../launcher/image-start.js';
import type { ProcessRecord } from '../../types.js';
import { contextFrom, launcherFor, readStore, type GlobalOptions } from '../context.js';
import { formatAgo, table } from '../format.js';

const formatBytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

export function imagesCommand(globals: () => GlobalOptions): Command {
  const images = new Command('images')
    .summary('list the unpacked images in the state directory')
    .description(
      'Lists the image cache (<state-dir>/images): the references that named each image, its digest, its size on disk, when a start last used it and how many live containers use it.',
    )
    .option('--json', 'one JSON document (an array of images)')
    .addHelpText('after', '\nExamples:\n  $ salvo images\n  $ salvo images prune')
    .action(async (options: { json?: boolean }) => {
      const context = contextFrom(globals());
      const store = await readStore(context);
      let records: ProcessRecord[] = [];
      try {
        records = store?.list({ states: [...LIVE_STATES] }) ?? [];
      } finally {
        store?.close();
      }
      const users = usersByDigest(records);
      const list = new ImageCache(context.stateDir).list().map((i) => ({ ...i, containers: users.get(i.digest) ?? 0 }));
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = [['REF', 'DIGEST', 'SIZE', 'LAST USED', 'CONTAINERS']];
      for (const i of list)
        rows.push([i.refs.join(' '), i.digest.slice(0, 19), formatBytes(i.sizeBytes), formatAgo(i.lastUsedAt), String(i.containers)]);
      process.stdout.write(`${table(rows)}\n`);
    });
  images.addCommand(
    new Command('prune')
      .summary('remove the images no live container uses')
      .description(
        "Removes cached images that no subscribed or running container uses and no overlay mount has as its lower directory. Done by the state directory's serving launcher, so no start can take an image while it goes.",
      )
      .action(async () => {
        const context = contextFrom(globals());
        const launcher = await launcherFor(context);
        try {
          const removed = await launcher.pruneImages();
          process.stdout.write(`removed ${removed.length} images\n`);
        } finally {
          await launcher.close();
          context.log.flush();
        }
      }),
  );
  return images;
}
