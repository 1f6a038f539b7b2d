import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { annotationScale, FACE_CLASS_COLOURS } from '../../src/render/annotate-faces.js';
import { waitForMlflow } from '../helpers/mlflow-server.js';
import { queueFlags, queueProject, useCliProcesses } from '../helpers/queue-harness.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, ROOT, tempDir, writeFiles } from '../helpers/temp-project.js';
import { trackedProject } from '../helpers/tracked-project.js';

/** The masked scenes made by test/fixtures/detect/make-scenes.ts from face-api's demo photos. */
const SCENES = path.join(ROOT, 'test', 'fixtures', 'detect', 'scenes');
const LARGE_SIDE = 6400;
/** Seconds with the native backend; minutes on pure JS, where one face-detector call takes ~15 s. */
const SLOW_BACKEND_MS = 600_000;
const redisUrl = inject('redisUrl');
const { startWorkers } = useCliProcesses();

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Face {
  box: Box;
  score: number;
  label: string;
  confidence: number;
}
interface Report {
  model: string;
  photos: { image: string; annotated: string; scale: number; faces: Face[] }[];
  skipped: { image: string; reason: string }[];
  truthTable: { classes: string[]; counts: number[][]; missed: number[]; extra: number[]; matched: number };
}
interface TruthRow {
  image: string;
  label: string;
  box: Box;
}

/** A 3-class pipeline (synthesized improper masks), tiny: 12 real images per class at 16×16, one epoch. */
const SYNTH_PIPELINE = `name: detect-3class
stages:
  ingest:
    params: { dataDir: data, imageSize: 16 }
  synthesize:
    needs: [ingest]
    params: { sources: [without_mask], perImage: 2, variants: { proper: with_mask, improper-nose: improper_mask, improper-mouth: improper_mask } }
  split:
    needs: [synthesize]
    params: { valFraction: 0.25, seed: 1 }
  train:
    needs: [split]
    params: { filters: [2, 4, 4], denseUnits: 8, epochs: 1, batchSize: 8 }
`;

function readTruth(file: string): TruthRow[] {
  const [, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const [image = '', label = '', x, y, width, height] = line.split(',');
    return { image, label, box: { x: Number(x), y: Number(y), width: Number(width), height: Number(height) } };
  });
}

/** The scenes, the grey and no-face photos, a 6,400 px copy of scene 3, a truncated JPEG and a text file. */
async function photoFolder(truthName: string): Promise<{ dir: string; truth: string; rows: TruthRow[] }> {
  const dir = tempDir('detect-photos-');
  for (const name of ['1', '2', '3', '4', '5', '6']
    .map((n) => `scene${n}.jpg`)
    .concat('grey-scene1.jpg', 'no-face.jpg')) {
    copyFileSync(path.join(SCENES, name), path.join(dir, name));
  }
  const scene3 = path.join(SCENES, 'scene3.jpg');
  const { width = 1 } = await sharp(scene3).metadata();
  const factor = LARGE_SIDE / width;
  await sharp(scene3).resize(LARGE_SIDE).jpeg({ quality: 80 }).toFile(path.join(dir, 'large.jpg'));
  const jpeg = readFileSync(path.join(SCENES, 'scene2.jpg'));
  writeFileSync(path.join(dir, 'corrupt.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  writeFileSync(path.join(dir, 'notes.txt'), 'not a photo\n');
  const rows = readTruth(path.join(SCENES, truthName));
  const large = rows
    .filter((row) => row.image === 'scene3.jpg')
    .map((row) => ({ ...row, image: 'large.jpg', box: scaleBox(row.box, factor) }));
  const all = [...rows, ...large];
  const truth = path.join(dir, '..', `${path.basename(dir)}-truth.csv`);
  const text = all.map((r) => [r.image, r.label, r.box.x, r.box.y, r.box.width, r.box.height].join(','));
  writeFileSync(truth, ['image,label,x,y,width,height', ...text].join('\n') + '\n');
  return { dir, truth, rows: all };
}

function scaleBox(box: Box, factor: number): Box {
  return { x: box.x * factor, y: box.y * factor, width: box.width * factor, height: box.height * factor };
}

function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w <= 0 || h <= 0 ? 0 : (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/** The truth table recomputed from the JSON faces: one-to-one, by descending box overlap (IoU ≥ 0.3). */
function recomputeTable(report: Report, rows: TruthRow[]) {
  const { classes } = report.truthTable;
  const counts = classes.map(() => classes.map(() => 0));
  const missed = classes.map(() => 0);
  const extra = classes.map(() => 0);
  for (const photo of report.photos) {
    const truth = rows.filter((row) => row.image === photo.image);
    const pairs = truth.flatMap((t, i) =>
      photo.faces.map((face, j) => ({ i, j, overlap: iou(t.box, face.box) })).filter((p) => p.overlap >= 0.3),
    );
    pairs.sort((a, b) => b.overlap - a.overlap);
    const taken = new Map<number, number>();
    const used = new Set<number>();
    for (const p of pairs) {
      if (taken.has(p.i) || used.has(p.j)) continue;
      taken.set(p.i, p.j);
      used.add(p.j);
    }
    truth.forEach((t, i) => {
      const j = taken.get(i);
      const row = classes.indexOf(t.label);
      if (j === undefined) missed[row] = (missed[row] ?? 0) + 1;
      else {
        const column = classes.indexOf(photo.faces[j]?.label ?? '');
        const line = counts[row];
        if (line) line[column] = (line[column] ?? 0) + 1;
      }
    });
    photo.faces.forEach((face, j) => {
      if (!used.has(j)) extra[classes.indexOf(face.label)]! += 1;
    });
  }
  return { counts, missed, extra };
}

const hex = (colour: string) => [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));

/**
 * Per face, the colours of the annotated PNG one pixel inside its box's left, right and bottom edges, at points
 * that no other face's box or label tag covers (a neighbour drawn later may paint over an edge).
 */
async function edgeColours(file: string, faces: Face[], scale: number): Promise<number[][][]> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { font } = annotationScale(info.width, info.height);
  const px = (face: Face) => scaleBox(face.box, scale);
  // A box grown by its label tag (above it, up to 20 em wide) and a little slack.
  const covers = (other: Box, x: number, y: number) =>
    x >= other.x - 2 &&
    x <= Math.max(other.x + other.width, other.x + 20 * font) + 2 &&
    y >= other.y - 2 * font &&
    y <= other.y + other.height + 2;
  return faces.map((face, k) => {
    const box = px(face);
    const points: [number, number][] = [];
    for (let t = 0.2; t <= 0.8; t += 0.1) {
      points.push([Math.floor(box.x) + 1, Math.round(box.y + t * box.height)]);
      points.push([Math.ceil(box.x + box.width) - 2, Math.round(box.y + t * box.height)]);
      points.push([Math.round(box.x + t * box.width), Math.ceil(box.y + box.height) - 2]);
    }
    const others = faces.filter((_, j) => j !== k).map(px);
    return points
      .filter(([x, y]) => !others.some((other) => covers(other, x, y)))
      .map(([x, y]) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)]);
  });
}

describe('pipeline detect on masked scenes, with a trial model of a local (3-class) run', () => {
  const dir = tempDir('detect-cli-');
  copySample(path.join(dir, 'data'), 12);
  writeFiles(dir, {
    'pipeline.yaml': SYNTH_PIPELINE,
    'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.lr: [0.001]\n',
  });
  const sweep = path.join(dir, 'sweep.yaml');
  const ws = path.join(dir, 'ws');
  const out = path.join(dir, 'out');
  let photos: Awaited<ReturnType<typeof photoFolder>>;
  let result: Awaited<ReturnType<typeof runCli>>;
  let report: Report;

  beforeAll(async () => {
    photos = await photoFolder('truth-3class.csv');
    const run = await runCli(['run', sweep, '--workspace', ws]);
    expect(run.code, run.stderr).toBe(0);
    const args = ['detect', photos.dir, '--sweep', sweep, '--workspace', ws, '--out', out];
    result = await runCli([...args, '--truth', photos.truth, '--json', '--csv']);
    report = JSON.parse(result.stdout) as Report;
  }, SLOW_BACKEND_MS);

  it('classifies every face found, prints one line per photo and skips the unreadable ones', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(report.model).toBe('trial t01');
    expect(report.photos.map((p) => p.image).sort()).toEqual(
      ['grey-scene1.jpg', 'large.jpg', 'no-face.jpg', 'scene1.jpg', 'scene2.jpg', 'scene3.jpg', 'scene4.jpg']
        .concat('scene5.jpg', 'scene6.jpg')
        .sort(),
    );
    expect(report.skipped.map((s) => s.image).sort()).toEqual(['corrupt.jpg', 'notes.txt']);
    expect(result.stderr).toMatch(/skipped notes\.txt: not an image/);
    expect(result.stderr).toMatch(/\[\d+\/11\] no-face\.jpg: no face found/);
    for (const photo of report.photos.filter((p) => p.image !== 'no-face.jpg')) {
      expect(photo.faces.length, photo.image).toBeGreaterThan(0);
      expect(result.stderr).toMatch(new RegExp(`${photo.image.replace('.', '\\.')}: ${photo.faces.length} faces?:`));
      for (const face of photo.faces) {
        expect(['with_mask', 'without_mask', 'improper_mask']).toContain(face.label);
        expect(face.score).toBeGreaterThanOrEqual(0.5);
      }
    }
    const csv = readFileSync(path.join(out, 'detections.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('image,face,x,y,width,height,score,label,confidence');
    expect(csv).toHaveLength(1 + report.photos.reduce((sum, p) => sum + p.faces.length, 0));
  });

  it('finds most synthesized faces, and its truth table agrees with the faces it reports', () => {
    const { truthTable } = report;
    expect(truthTable.classes).toEqual(['with_mask', 'without_mask', 'improper_mask']);
    expect(recomputeTable(report, photos.rows)).toEqual({
      counts: truthTable.counts,
      missed: truthTable.missed,
      extra: truthTable.extra,
    });
    expect(truthTable.matched).toBeGreaterThanOrEqual(Math.ceil(0.8 * photos.rows.length));
  });

  it('scales a very large photo down instead of refusing it, and reports boxes in its own pixels', () => {
    const large = report.photos.find((p) => p.image === 'large.jpg');
    const scene3 = report.photos.find((p) => p.image === 'scene3.jpg');
    expect(large?.scale).toBeCloseTo(2048 / LARGE_SIDE, 3);
    expect(large?.faces.length).toBe(scene3?.faces.length);
    const factor = LARGE_SIDE / 800;
    for (const face of scene3?.faces ?? []) {
      const twin = large?.faces.find((f) => iou(f.box, scaleBox(face.box, factor)) > 0.7);
      expect(twin, JSON.stringify(face.box)).toBeDefined();
    }
  });

  it('draws every box in its class colour', async () => {
    const palette = Object.entries(FACE_CLASS_COLOURS).map(([label, colour]) => ({ label, rgb: hex(colour) }));
    // The nearest class colour, and how far off: a thin line's edge pixel may be partly covered.
    const nearest = (rgb: number[]) =>
      palette
        .map((c) => ({ label: c.label, off: Math.max(...c.rgb.map((v, k) => Math.abs(v - (rgb[k] ?? 0)))) }))
        .sort((a, b) => a.off - b.off)[0];
    let checked = 0;
    for (const photo of report.photos.filter((p) => p.faces.length > 0)) {
      const colours = await edgeColours(photo.annotated, photo.faces, photo.scale);
      colours.forEach((samples, k) => {
        for (const rgb of samples) {
          const found = nearest(rgb);
          expect(found?.label, `${photo.image} face ${k + 1}: ${rgb.join(',')}`).toBe(photo.faces[k]?.label);
          expect(found?.off).toBeLessThanOrEqual(16);
        }
        if (samples.length > 0) checked++;
      });
    }
    expect(checked).toBeGreaterThanOrEqual(report.photos.reduce((sum, p) => sum + p.faces.length, 0) - 4);
    const { width } = await sharp(path.join(out, 'large.png')).metadata();
    expect(width).toBe(2048);
  });

  it(
    'prints the truth table without --json',
    async () => {
      const text = await runCli([
        'detect',
        photos.dir,
        '--sweep',
        sweep,
        '--workspace',
        ws,
        '--out',
        out,
        '--truth',
        photos.truth,
      ]);
      expect(text.code, text.stderr).toBe(0);
      const [withMask = []] = report.truthTable.counts;
      expect(text.stdout).toMatch(/truth \\ predicted +with_mask +without_mask +improper_mask +missed/);
      expect(text.stdout).toMatch(
        new RegExp(`^with_mask +${withMask.join(' +')} +${report.truthTable.missed[0]}$`, 'm'),
      );
      expect(text.stdout).toMatch(
        new RegExp(`found faces classified right\\); \\d+ of ${photos.rows.length} truth faces missed`),
      );
    },
    SLOW_BACKEND_MS,
  );

  it(
    'bad input: one line, the documented exit status, no output folder',
    async () => {
      const empty = tempDir('detect-bad-');
      const unrun = writeFiles(tempDir('detect-unrun-'), {
        'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.lr: [0.001]\n',
      });
      writeFiles(unrun, { 'pipeline.yaml': SYNTH_PIPELINE });
      copySample(path.join(unrun, 'data'), 2);
      writeFiles(empty, {
        'unknown-image.csv': 'image,label,cx,cy\nnowhere.jpg,with_mask,1,1\n',
        'unknown-label.csv': 'image,label,cx,cy\nscene1.jpg,masked,1,1\n',
        'notes.txt': 'text',
      });
      const model = ['--sweep', sweep, '--workspace', ws];
      const cases: [string[], number, RegExp][] = [
        [['detect', path.join(empty, 'missing.jpg'), ...model], 2, /missing\.jpg: not found/],
        [['detect', path.join(empty, 'notes.txt'), ...model], 3, /notes\.txt: not an image/],
        [['detect', photos.dir, ...model, '--trial', 't99'], 2, /--trial t99: no trial t99/],
        [
          ['detect', photos.dir, '--sweep', path.join(unrun, 'sweep.yaml'), '--workspace', path.join(unrun, 'ws')],
          2,
          /no trial has finished yet/,
        ],
        [
          ['detect', photos.dir, ...model, '--truth', path.join(empty, 'unknown-image.csv')],
          3,
          /unknown-image\.csv:2: image 'nowhere\.jpg' is not an input/,
        ],
        [
          ['detect', photos.dir, ...model, '--truth', path.join(empty, 'unknown-label.csv')],
          3,
          /unknown-label\.csv:2: label 'masked' is not a class/,
        ],
      ];
      for (const [args, code, message] of cases) {
        const bad = await runCli([...args, '--out', path.join(empty, 'out')]);
        expect(bad.code, bad.stderr).toBe(code);
        expect(bad.stderr).toMatch(message);
        expect(
          bad.stderr
            .trim()
            .split('\n')
            .filter((line) => !/tensorflow|AVX|oneDNN/.test(line)),
        ).toHaveLength(1);
        expect(existsSync(path.join(empty, 'out'))).toBe(false);
      }
    },
    SLOW_BACKEND_MS,
  );
});

describe('pipeline detect with a 2-class model trained through the queue', () => {
  it(
    'uses the trial model a queued run left in the workspace, and tallies 2-class truth',
    async () => {
      const p = queueProject('  train.optimizer: [adam]\n', 12);
      startWorkers(1, redisUrl, p);
      const run = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p)]);
      expect(run.code, run.stderr).toBe(0);
      const photos = await photoFolder('truth-2class.csv');
      const out = path.join(p.dir, 'out');
      const args = ['detect', photos.dir, '--sweep', p.sweep, '--workspace', p.ws, '--out', out, '--trial', 't01'];
      const result = await runCli([...args, '--truth', photos.truth, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Report;
      expect(report.truthTable.classes).toEqual(['with_mask', 'without_mask']);
      expect(recomputeTable(report, photos.rows)).toEqual({
        counts: report.truthTable.counts,
        missed: report.truthTable.missed,
        extra: report.truthTable.extra,
      });
    },
    SLOW_BACKEND_MS,
  );
});

const mlflowUri = inject('mlflowUri');

describe.skipIf(mlflowUri === null)('pipeline detect with a model from the MLflow Model Registry', () => {
  it(
    'finds and classifies the same faces as with the trial in the workspace',
    async () => {
      const uri = mlflowUri ?? '';
      await waitForMlflow(uri);
      const project = trackedProject(1);
      const name = `detect-${process.pid}-${Date.now().toString(36)}`;
      const tracking = ['--tracking-uri', uri, '--experiment', name];
      const run = await runCli(['run', project.sweep, '--workspace', project.ws, ...tracking, '--register', name]);
      expect(run.code, run.stderr).toBe(0);
      const scene = path.join(SCENES, 'scene3.jpg');
      const out = (k: string) => ['--out', path.join(project.dir, k), '--json'];
      const registered = await runCli([
        'detect',
        scene,
        '--model',
        `models:/${name}/1`,
        ...out('r'),
        '--tracking-uri',
        uri,
      ]);
      const local = await runCli(['detect', scene, '--sweep', project.sweep, '--workspace', project.ws, ...out('l')]);
      expect(registered.code, registered.stderr).toBe(0);
      expect(local.code, local.stderr).toBe(0);
      const faces = (text: string) => (JSON.parse(text) as Report).photos[0]?.faces;
      expect(faces(registered.stdout)?.length).toBeGreaterThan(0);
      expect(faces(registered.stdout)).toEqual(faces(local.stdout));
    },
    SLOW_BACKEND_MS,
  );
});
