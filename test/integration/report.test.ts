/**
 * The sweep report as a user sees it: `pipeline run` on a 2 × 2 grid writes report/index.html, which is opened in a
 * real headless Chromium (Debian's package, driven by playwright-core; no browser download). The page must load
 * with no console error and no network request, and every chart and picture must be there and non-empty. A
 * screenshot is kept in test/artifacts/. With the run's MLflow server, the trial runs hold the pictures and the
 * parent run the report.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForMlflow } from '../helpers/mlflow-server.js';
import { pythonOracle } from '../helpers/mlflow-oracle.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, ROOT, tempDir, writeFiles } from '../helpers/temp-project.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) console.warn(`report browser test skipped: no Chromium at ${CHROMIUM} (install Debian's chromium)`);
const mlflowUri = inject('mlflowUri');

// Run inside the page (the test's compiler knows no DOM types, so they are passed as source text).
interface PageFacts {
  rows: number;
  best: string[];
  svgs: { width: number; height: number; marks: number }[];
  images: { alt: string; complete: boolean; width: number; height: number }[];
  report: string;
}
const PAGE_FACTS = `({
  rows: document.querySelectorAll('#results tbody tr').length,
  best: [...document.querySelectorAll('#results tr.best')].map((tr) => tr.textContent),
  svgs: [...document.querySelectorAll('figure > svg')].map((svg) => {
    const box = svg.getBoundingClientRect();
    return { width: box.width, height: box.height, marks: svg.querySelectorAll('polyline, rect.cell').length };
  }),
  images: [...document.images].map((img) => ({
    alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
  })),
  report: document.querySelector('#classification-report')?.textContent ?? '',
})`;
const OBJECTIVE_COLUMN = `[...document.querySelectorAll('#results tbody tr')].map((row) => Number(row.children[4].dataset.value))`;

const dir = tempDir('report-');
copySample(path.join(dir, 'data'), 12);
writeFiles(dir, {
  'pipeline.yaml': `name: tiny
stages:
  ingest:
    params: { dataDir: data, imageSize: 16 }
  split:
    needs: [ingest]
    params: { valFraction: 0.25, seed: 1 }
  train:
    needs: [split]
    params: { filters: [2, 4, 4], denseUnits: 8, epochs: 2, batchSize: 8 }
  evaluate:
    needs: [train, split]
  visualize:
    needs: [train, evaluate, split]
    params: { camImages: 4, featureChannels: 4, mistakes: 6 }
`,
  'sweep.yaml': `pipeline: pipeline.yaml
grid:
  train.lr: [0.01, 0.001]
  train.optimizer: [adam, sgd]
`,
});
const ws = path.join(dir, 'ws');
const sweep = path.join(dir, 'sweep.yaml');
const tracking = mlflowUri ? ['--tracking-uri', mlflowUri, '--experiment', 'sweep-report'] : [];

describe('the sweep report', () => {
  let stderr = '';
  beforeAll(async () => {
    if (mlflowUri) await waitForMlflow(mlflowUri);
    const result = await runCli(['run', sweep, '--workspace', ws, '--parallel', '2', ...tracking]);
    expect(result.code, result.stderr).toBe(0);
    stderr = result.stderr;
  });

  it('pipeline run prints where it wrote the report; pipeline report writes the same file again', async () => {
    const file = path.join(ws, 'report', 'index.html');
    expect(stderr).toContain(`report: ${file}`);
    const again = await runCli(['report', sweep, '--workspace', ws]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(file);
    expect(readFileSync(file, 'utf8')).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('pipeline report on a sweep that never ran says so and writes nothing', async () => {
    const empty = path.join(dir, 'empty-ws');
    const result = await runCli(['report', sweep, '--workspace', empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^pipeline: .*sweep\.yaml: nothing of this sweep is in the workspace .*; run it first/,
    );
    expect(existsSync(path.join(empty, 'report'))).toBe(false);
  });

  it.skipIf(!mlflowUri)('MLflow: each trial run holds its pictures, the parent run the report', () => {
    const files = pythonOracle<{ parent: boolean; files: string[] }[]>(
      mlflowUri ?? '',
      `exp = c.get_experiment_by_name('sweep-report')
runs = c.search_runs([exp.experiment_id])
print(json.dumps([{'parent': 'mlflow.parentRunId' not in r.data.tags,
  'files': [f.path for d in ('visualize', 'report') for f in c.list_artifacts(r.info.run_id, d)]} for r in runs]))`,
    );
    expect(files.filter((r) => r.parent).map((r) => r.files)).toEqual([['report/index.html']]);
    const trials = files.filter((r) => !r.parent);
    expect(trials).toHaveLength(4);
    for (const trial of trials) {
      expect(trial.files).toEqual(
        expect.arrayContaining([
          'visualize/cam.png',
          'visualize/misclassified.png',
          'visualize/feature-maps-pool1.png',
          'visualize/epochs.csv',
        ]),
      );
    }
  });

  describe.skipIf(noBrowser)('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('loads with no console error or request, every chart and picture present and non-empty, sortable', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('request', (request) => {
        if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) requests.push(request.url());
      });
      await page.goto(`file://${path.join(ws, 'report', 'index.html')}`, { waitUntil: 'load' });

      const facts = await page.evaluate<PageFacts>(PAGE_FACTS);
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      expect(facts.rows).toBe(4);
      expect(facts.best).toHaveLength(1);
      expect(facts.best[0]).toContain('★');
      // Three overlaid curve charts (4 trials each), the grid heat map (4 cells), parallel coordinates (4 lines).
      expect(facts.svgs).toHaveLength(5);
      for (const chart of facts.svgs) {
        expect(chart.width).toBeGreaterThan(100);
        expect(chart.height).toBeGreaterThan(100);
        expect(chart.marks).toBeGreaterThanOrEqual(4);
      }
      const titles = facts.images.map((image) => image.alt);
      expect(titles).toEqual(
        expect.arrayContaining([
          'Confusion matrix (validation)',
          'Class activation maps: image | heat map | overlay',
          'Most confident mistakes',
          'Feature maps after pool1',
          'Feature maps after pool2',
          'Feature maps after pool3',
        ]),
      );
      for (const image of facts.images) {
        expect(image.complete, image.alt).toBe(true);
        expect(image.width, image.alt).toBeGreaterThan(50);
        expect(image.height, image.alt).toBeGreaterThan(50);
      }
      expect(facts.report).toMatch(/precision\s+recall\s+f1-score\s+support/);

      // Sorting by the objective column, twice, gives opposite orders.
      const objective = page.locator('#results th', { hasText: 'val_accuracy (maximize)' });
      const column = async () => page.evaluate<number[]>(OBJECTIVE_COLUMN);
      await objective.click();
      const ascending = await column();
      await objective.click();
      const descending = await column();
      expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
      expect(descending).toEqual([...ascending].reverse());

      mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'sweep-report.png'), fullPage: true });
      await page.close();
    });
  });
});
