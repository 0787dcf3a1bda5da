// `salvo bench --image` with real runc and crun, small: three sides (image, bundle under salvo-init,
// bundle without), every start counted and none failed, and the RESULTS.md section it writes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatImageBenchMarkdown, runImageBench, type ImageBenchReport } from '../../src/bench/image-bench.js';
import { RUNTIMES, removeTempDirs, tempDir } from '../helpers.js';
import { buildTestImage } from '../image/layout-builder.js';

after(removeTempDirs);

describe('salvo bench --image', { timeout: 300_000 }, () => {
  const reports: ImageBenchReport[] = [];

  for (const runtime of RUNTIMES) {
    it(`times starts from the image against its bundle with and without an init, with ${runtime}`, async () => {
      const scratch = tempDir('salvo-img-bench-');
      await buildTestImage(join(scratch, 'trees'), join(scratch, 'layout'));
      const report = await runImageBench({
        runtime,
        image: `oci:${join(scratch, 'layout')}:v1`,
        count: 6,
        concurrency: 2,
        rounds: 3,
        stateDir: scratch,
      });
      for (const side of [report.fromImage, report.fromBundle, report.fromBundleNoInit]) {
        assert.equal(side.count, 6);
        assert.equal(side.failures, 0, side.firstError ?? '');
        assert.ok(side.wallMs > 0 && side.startsPerSecond > 0);
      }
      assert.ok(report.unpackMs > 0 && report.firstStartMs > 0);
      assert.match(report.digest, /^sha256:[a-f0-9]{64}$/);
      const perStart = (side: { wallMs: number; count: number }): number => side.wallMs / side.count;
      assert.equal(report.ratio, perStart(report.fromImage) / perStart(report.fromBundle));
      assert.equal(report.ratioNoInit, perStart(report.fromImage) / perStart(report.fromBundleNoInit));
      reports.push(report);
    });
  }

  it('writes one row per runtime, the verdict following the ratio, between the images markers', () => {
    const section = formatImageBenchMarkdown(reports, '2026-12-02T00:00:00.000Z');
    assert.match(section, /^<!-- images:[^\n]*-->\n/);
    assert.match(section, /<!-- \/images -->\n$/);
    for (const r of reports) {
      const row = section.split('\n').find((line) => line.startsWith(`| ${r.runtime} |`)) ?? '';
      assert.ok(row.includes(`| ${r.ratio.toFixed(3)} | ≤ 1.10: ${r.ratio <= 1.1 ? 'met' : 'missed'} | ${r.ratioNoInit.toFixed(3)} |`), row);
    }
  });
});
