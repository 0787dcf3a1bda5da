// `salvo bench --image REF`: starts from an image (overlay per container, unmounted at delete)
// against starts from the equivalent bundle (the same cached rootfs and config, no overlay),
// interleaved round by round in one run; the first start's unpack is timed on its own.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Launcher } from '../launcher/launcher.js';
import type { JobSpec, Logger } from '../types.js';

export interface ImageBenchOptions {
  runtime: string;
  image: string;
  count: number;
  concurrency: number;
  rounds: number;
  stateDir: string;
  logger?: Logger;
}

export interface ImageBenchSide {
  count: number;
  wallMs: number;
  startsPerSecond: number;
  failures: number;
  firstError: string | null;
  /** Mean prepare time per start (for images: the derived config and the overlay mount). */
  prepareMs: number;
}

export interface ImageBenchReport {
  runtime: string;
  image: string;
  digest: string;
  concurrency: number;
  /** Rounds the sides were interleaved in (each side first in turn). */
  rounds: number;
  /** Resolving and unpacking the image into an empty cache. */
  unpackMs: number;
  /** The first start from the unpacked image (warm cache, first overlay). */
  firstStartMs: number;
  fromImage: ImageBenchSide;
  /** The same bundle under salvo-init, as an image start runs by default: the like-for-like side. */
  fromBundle: ImageBenchSide;
  /** The same bundle with a bundle's default, no init: what salvo-init itself costs is the difference. */
  fromBundleNoInit: ImageBenchSide;
  /** Wall time per start from the image ÷ from the bundle (target ≤ 1.10). */
  ratio: number;
  /** Wall time per start from the image ÷ from the bundle without an init (each side with its default). */
  ratioNoInit: number;
}

async function round(launcher: Launcher, jobs: JobSpec[], k: number, side: ImageBenchSide): Promise<void> {
  const began = performance.now();
  for await (const result of launcher.batch(jobs, { concurrency: k })) {
    if (result.state === 'failed') {
      side.failures++;
      side.firstError ??= result.error?.message ?? 'failed';
    }
    side.prepareMs += result.timings.prepareMs; // a sum until the end
  }
  side.wallMs += performance.now() - began;
}

const perStart = (side: ImageBenchSide): number => side.wallMs / side.count;

export async function runImageBench(options: ImageBenchOptions): Promise<ImageBenchReport> {
  const stateDir = join(options.stateDir, 'bench-image');
  rmSync(join(stateDir, 'images'), { recursive: true, force: true }); // an empty cache: the unpack is measured
  const launcher = await Launcher.open({ stateDir, runtime: options.runtime, workers: 1, ...(options.logger ? { logger: options.logger } : {}) });
  try {
    let t = performance.now();
    const cached = await launcher.images.resolve(options.image);
    const unpackMs = performance.now() - t;
    t = performance.now();
    const first = await launcher.start({
      id: `img-bench-first-${Date.now().toString(36)}`,
      image: options.image,
      args: ['/bin/true'],
      stdio: 'null',
    });
    const firstStartMs = performance.now() - t;
    await first.exited;
    const empty = (): ImageBenchSide => ({ count: 0, wallMs: 0, startsPerSecond: 0, failures: 0, firstError: null, prepareMs: 0 });
    const fromImage = empty();
    const fromBundle = empty();
    const fromBundleNoInit = empty();
    const perRound = Math.max(1, Math.floor(options.count / options.rounds));
    const tag = Date.now().toString(36);
    for (let r = 0; r < options.rounds; r++) {
      const ids = (side: string): string[] => Array.from({ length: perRound }, (_, i) => `img-bench-${tag}-${side}${r}-${i}`);
      const imageJobs: JobSpec[] = ids('i').map((id) => ({ id, image: options.image, args: ['/bin/true'], stdio: 'null' }));
      // The same rootfs and config, started as a bundle under the same init (an image's default, a
      // bundle's is none): what an image start costs beyond it is the overlay.
      const bundleJobs: JobSpec[] = ids('b').map((id) => ({ id, bundle: cached.dir, args: ['/bin/true'], stdio: 'null', init: true }));
      const plainJobs: JobSpec[] = ids('p').map((id) => ({ id, bundle: cached.dir, args: ['/bin/true'], stdio: 'null' }));
      const sides: [JobSpec[], ImageBenchSide][] = [
        [imageJobs, fromImage],
        [bundleJobs, fromBundle],
        [plainJobs, fromBundleNoInit],
      ];
      const order = [...sides.slice(r % 3), ...sides.slice(0, r % 3)]; // each side first in turn
      for (const [jobs, side] of order) {
        side.count += jobs.length;
        await round(launcher, jobs, options.concurrency, side);
      }
      await launcher.gc(); // deletes (and unmounts) are done before the next round, on both sides
    }
    for (const side of [fromImage, fromBundle, fromBundleNoInit]) {
      side.startsPerSecond = side.count / (side.wallMs / 1000);
      side.prepareMs /= side.count;
    }
    return {
      runtime: options.runtime,
      image: options.image,
      digest: cached.digest,
      concurrency: options.concurrency,
      rounds: options.rounds,
      unpackMs,
      firstStartMs,
      fromImage,
      fromBundle,
      fromBundleNoInit,
      ratio: perStart(fromImage) / perStart(fromBundle),
      ratioNoInit: perStart(fromImage) / perStart(fromBundleNoInit),
    };
  } finally {
    await launcher.close();
  }
}

export function formatImageBench(report: ImageBenchReport): string {
  const f = (n: number): string => n.toFixed(1);
  return [
    `image ${report.image} (${report.digest.slice(0, 19)}) with ${report.runtime}, K=${report.concurrency}`,
    `  unpack into an empty cache: ${f(report.unpackMs)} ms; first start after it: ${f(report.firstStartMs)} ms`,
    `  from the image:  ${report.fromImage.count} starts in ${f(report.fromImage.wallMs)} ms (${f(report.fromImage.startsPerSecond)}/s, prepare ${f(report.fromImage.prepareMs)} ms/start, ${report.fromImage.failures} failed)`,
    `  from the bundle: ${report.fromBundle.count} starts in ${f(report.fromBundle.wallMs)} ms (${f(report.fromBundle.startsPerSecond)}/s, prepare ${f(report.fromBundle.prepareMs)} ms/start, ${report.fromBundle.failures} failed), under salvo-init as the image`,
    `  from the bundle, no init: ${report.fromBundleNoInit.count} starts in ${f(report.fromBundleNoInit.wallMs)} ms (${f(report.fromBundleNoInit.startsPerSecond)}/s, ${report.fromBundleNoInit.failures} failed)`,
    `  image/bundle time per start: ${report.ratio.toFixed(3)} (target ≤ 1.10); against the bundle without an init: ${report.ratioNoInit.toFixed(3)}`,
    '',
  ].join('\n');
}

/** The images section of bench/RESULTS.md (`npm run bench`): one row per runtime, ratios from one run. */
export function formatImageBenchMarkdown(reports: readonly ImageBenchReport[], date: string): string {
  const f = (n: number, digits = 1): string => n.toFixed(digits);
  const first = reports[0];
  const rows = reports.map((r) => {
    const failed = r.fromImage.failures + r.fromBundle.failures + r.fromBundleNoInit.failures;
    return (
      `| ${r.runtime} | ${f(r.unpackMs, 0)} ms | ${f(r.firstStartMs, 0)} ms | ${f(r.fromImage.startsPerSecond)} | ${f(r.fromBundle.startsPerSecond)} | ` +
      `${f(r.fromBundleNoInit.startsPerSecond)} | ${f(r.fromImage.prepareMs)} / ${f(r.fromBundle.prepareMs)} | ${f(r.ratio, 3)} | ` +
      `≤ 1.10: ${r.ratio <= 1.1 ? 'met' : 'missed'}${failed > 0 ? ` (${failed} failed)` : ''} | ${f(r.ratioNoInit, 3)} |`
    );
  });
  return [
    '<!-- images: written by npm run bench (bench/run.ts; `--again images` measures it anew) -->',
    '## Starts from an image (issue 12)',
    '',
    `\`salvo bench --image\` on ${date}: the test image of test/image/layout-builder.ts (busybox, two layers), ` +
      `${first?.fromImage.count ?? 0} starts of \`/bin/true\` per side at K=${first?.concurrency ?? 0}, one worker, the sides interleaved in ${first?.rounds ?? 0} rounds. ` +
      'Image side: an overlay per container, mounted in prepare, detached at delete (on a libuv pool thread). Bundle side: ' +
      'the same unpacked rootfs and config.json started as a bundle under salvo-init, as an image start runs by default ' +
      "(the target compares these two); a third side starts that bundle without an init (a bundle's default), so the last " +
      'column adds what salvo-init costs. The unpack (into an empty cache) and the first start after it are timed on their own.',
    '',
    '| runtime | unpack into an empty cache | first start after it | image: starts/s | bundle: starts/s | bundle, no init: starts/s | prepare ms/start image / bundle | image ÷ bundle time per start | target | image ÷ bundle without init |',
    '|---|---:|---:|---:|---:|---:|---|---:|---|---:|',
    ...rows,
    '',
    'What an image start costs beyond its bundle, and the floor the bare runtime sets on an overlay root: docs/images.md (Cost of a start from an image).',
    '<!-- /images -->',
    '',
  ].join('\n');
}
