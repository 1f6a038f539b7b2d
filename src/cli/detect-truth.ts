import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { TruthFace, TruthTable } from '../ml/metrics/match-faces.js';
import { formatColumns } from './format-table.js';

/** Truth faces by image, keyed by the image's path relative to the folder `detect` searched. */
export type TruthFile = Map<string, TruthFace[]>;

const BOX_COLUMNS = ['x', 'y', 'width', 'height'] as const;
const POINT_COLUMNS = ['cx', 'cy'] as const;

/**
 * Reads a truth CSV: a header naming `image`, `label` and either `x,y,width,height` (a box) or `cx,cy` (a point
 * on the face), or all six; each row gives one expected face with a box or a point, in the photo's own pixels.
 * `image` is a path relative to the searched folder. An image that is not among `inputs`, a label the model does
 * not have, or a row without a full box or point is one DATA_INVALID line naming the file and row.
 */
export async function readTruthFile(file: string, inputs: readonly string[], classes: readonly string[]) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PipelineError('USAGE', `--truth ${file}: not found`);
  }
  const [headerLine = '', ...lines] = text.split(/\r?\n/);
  const header = headerLine.split(',').map((name) => name.trim().toLowerCase());
  const column = (name: string) => header.indexOf(name);
  const hasBox = BOX_COLUMNS.every((name) => column(name) >= 0);
  const hasPoint = POINT_COLUMNS.every((name) => column(name) >= 0);
  if (column('image') < 0 || column('label') < 0 || (!hasBox && !hasPoint)) {
    throw new PipelineError(
      'DATA_INVALID',
      `${file}:1: the header must name image, label and x,y,width,height or cx,cy (got '${headerLine}')`,
    );
  }
  const known = new Set(inputs);
  const truth: TruthFile = new Map();
  lines.forEach((line, k) => {
    if (line.trim() === '') return;
    const where = `${file}:${k + 2}`;
    const cells = line.split(',').map((cell) => cell.trim());
    const cell = (name: string) => cells[column(name)] ?? '';
    const image = path.normalize(cell('image'));
    if (!known.has(image))
      throw new PipelineError('DATA_INVALID', `${where}: image '${cell('image')}' is not an input`);
    const label = cell('label');
    if (!classes.includes(label)) {
      throw new PipelineError(
        'DATA_INVALID',
        `${where}: label '${label}' is not a class of the model (${classes.join(', ')})`,
      );
    }
    const face = { label, ...facePlace(where, cell, hasBox, hasPoint) };
    truth.set(image, [...(truth.get(image) ?? []), face]);
  });
  return truth;
}

function facePlace(where: string, cell: (name: string) => string, hasBox: boolean, hasPoint: boolean) {
  const numbers = (names: readonly string[]) => {
    const values = names.map((name) => (cell(name) === '' ? NaN : Number(cell(name))));
    return values.every(Number.isFinite) ? values : undefined;
  };
  const box = hasBox ? numbers(BOX_COLUMNS) : undefined;
  if (box) {
    const [x = 0, y = 0, width = 0, height = 0] = box;
    if (width <= 0 || height <= 0) throw new PipelineError('DATA_INVALID', `${where}: width and height must be > 0`);
    return { box: { x, y, width, height } };
  }
  const point = hasPoint ? numbers(POINT_COLUMNS) : undefined;
  if (point) return { point: { x: point[0] ?? 0, y: point[1] ?? 0 } };
  throw new PipelineError('DATA_INVALID', `${where}: needs numbers in x,y,width,height or in cx,cy`);
}

/** The truth-vs-prediction table, with missed and extra faces, and the accuracy line. */
export function formatTruthTable(table: TruthTable): string {
  const header = ['truth \\ predicted', ...table.classes, 'missed'];
  const rows = table.classes.map((name, t) => [
    name,
    ...table.classes.map((_, p) => String(table.counts[t]?.[p] ?? 0)),
    String(table.missed[t] ?? 0),
  ]);
  const extra = ['extra', ...table.extra.map(String), ''];
  const correct = table.classes.reduce((sum, _, k) => sum + (table.counts[k]?.[k] ?? 0), 0);
  const missed = table.missed.reduce((a, b) => a + b, 0);
  const extras = table.extra.reduce((a, b) => a + b, 0);
  const accuracy = Number.isNaN(table.accuracy) ? '-' : `${(table.accuracy * 100).toFixed(1)}%`;
  return (
    `${formatColumns([header, ...rows, extra])}\n` +
    `accuracy ${accuracy} (${correct} of ${table.matched} found faces classified right); ` +
    `${missed} of ${table.truthFaces} truth faces missed; ${extras} extra detections\n`
  );
}
