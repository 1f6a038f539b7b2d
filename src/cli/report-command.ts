import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { PipelineError } from '../errors.js';
import { collectTrialRows, readStoredKnowledge } from '../orchestrator/trial-results.js';
import { renderReportHtml, type ReportData, type ReportImage } from '../render/report-html.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { Plan, StageKind } from '../types.js';
import { withSweepFlags, type Finish } from './cli-flags.js';
import { openSweep, type OpenSweep, type SweepCommandOptions } from './open-sweep.js';

/** Declares `pipeline report <sweep>`. */
export function registerReportCommand(program: Command, finish: Finish): void {
  withSweepFlags(program.command('report').argument('<sweep>'))
    .description('write the sweep report (report/index.html in the workspace): one HTML file, opens from disk')
    .action((sweep, options) => finish(reportCommand(sweep, options)));
}

async function reportCommand(arg: string, options: SweepCommandOptions): Promise<number> {
  const opened = await openSweep(arg, options);
  const file = await writeSweepReport(opened);
  if (file === undefined) {
    const { sweep, store } = opened;
    throw new PipelineError(
      'NOT_FOUND',
      `${sweep.file}: nothing of this sweep is in the workspace ${store.root}; run it first (pipeline run ${sweep.file})`,
    );
  }
  process.stdout.write(`${file}\n`);
  return 0;
}

/** How the last `pipeline run` left each node, from the sweep's state file. */
interface LastRun {
  nodes: Record<string, { state: string }>;
}

/**
 * Gathers what the workspace holds for a sweep (results, histories, the best trial's report and pictures, the
 * synthesize montage) and writes `report/index.html` in the workspace, replacing it whole. Returns its path, or
 * undefined (writing nothing) when the workspace holds no node of the sweep.
 */
export async function writeSweepReport({ sweep, plan, store }: OpenSweep): Promise<string | undefined> {
  const known = await readStoredKnowledge(plan, store);
  if (known.size === 0) return undefined;
  const rows = collectTrialRows(plan, known);
  const nodeDir = (trial: string | null, kind: StageKind) => {
    const node = plan.nodes.find((n) => n.kind === kind && (trial === null || n.trials.includes(trial)));
    return node && known.has(node.id) ? store.nodeDir(node.cacheKey) : undefined;
  };
  const trials = await Promise.all(
    rows.map(async (row) => ({
      ...row,
      history: await readJsonOr<Record<string, number>[]>(nodeDir(row.id, 'train'), 'history.json', []),
    })),
  );
  const best = rows.find((row) => row.best);
  const data: ReportData = {
    sweep: sweep.name,
    pipeline: sweep.pipeline.name,
    generatedAt: new Date().toISOString(),
    objective: plan.objective,
    gridKeys: sweep.grid.map((entry) => entry.path),
    trials,
    nodeStates: await nodeStates(plan, store, sweep.name, known),
    ...(best ? { best: await bestTrial(best.id, best.label, nodeDir) } : {}),
  };
  const montage = await readPicture(nodeDir(null, 'synthesize'), 'montage.png', 'Synthesized masks (montage)');
  if (montage) data.montage = montage;
  const ingest = await readJsonOr<{ skipped?: ReportData['skippedFiles'] }>(
    nodeDir(null, 'ingest'),
    'ingest-report.json',
    {},
  );
  if (ingest.skipped?.length) data.skippedFiles = ingest.skipped;
  const dir = path.join(store.root, 'report');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'index.html');
  await writeFile(`${file}.tmp`, renderReportHtml(data));
  await rename(`${file}.tmp`, file);
  return file;
}

async function nodeStates(
  plan: Plan,
  store: WorkspaceStore,
  sweepName: string,
  known: Map<string, unknown>,
): Promise<Record<string, number>> {
  const last = await store.readJson<LastRun>(store.sweepFile(sweepName));
  const counts: Record<string, number> = {};
  for (const node of plan.nodes) {
    const previous = last?.nodes[node.id]?.state;
    const state = previous === 'done' ? 'ran' : (previous ?? (known.has(node.id) ? 'stored' : 'pending'));
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

const BEST_PICTURES: [string, string][] = [
  ['confusion.png', 'Confusion matrix (validation)'],
  ['accuracy.png', 'Accuracy per epoch'],
  ['loss.png', 'Loss per epoch'],
  ['cam.png', 'Class activation maps: image | heat map | overlay'],
  ['misclassified.png', 'Most confident mistakes'],
];

async function bestTrial(
  id: string,
  label: string,
  nodeDir: (trial: string, kind: StageKind) => string | undefined,
): Promise<NonNullable<ReportData['best']>> {
  const visualize = nodeDir(id, 'visualize');
  const featureFiles = visualize
    ? readdirSync(visualize)
        .filter((f) => /^feature-maps-.+\.png$/.test(f))
        .sort()
    : [];
  const pictures = [
    ...BEST_PICTURES,
    ...featureFiles.map((f): [string, string] => [f, `Feature maps after ${f.slice(13, -4)}`]),
  ];
  const images = (await Promise.all(pictures.map(([f, title]) => readPicture(visualize, f, title)))).filter(
    (picture): picture is ReportImage => picture !== undefined,
  );
  const evaluate = nodeDir(id, 'evaluate');
  const text =
    evaluate && existsSync(path.join(evaluate, 'report.txt'))
      ? await readFile(path.join(evaluate, 'report.txt'), 'utf8')
      : undefined;
  return { id, label, images, ...(text === undefined ? {} : { classificationReport: text }) };
}

async function readPicture(dir: string | undefined, name: string, title: string): Promise<ReportImage | undefined> {
  if (!dir || !existsSync(path.join(dir, name))) return undefined;
  return { title, png: await readFile(path.join(dir, name)) };
}

async function readJsonOr<T>(dir: string | undefined, name: string, fallback: T): Promise<T> {
  if (!dir || !existsSync(path.join(dir, name))) return fallback;
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as T;
}
