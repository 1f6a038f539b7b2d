import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTruthTable, readTruthFile } from '../../../src/cli/detect-truth.js';
import { PipelineError } from '../../../src/errors.js';
import { emptyTruthTable } from '../../../src/ml/metrics/match-faces.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';

const classes = ['with_mask', 'without_mask'];

async function read(text: string, inputs = ['a.jpg', path.join('sub', 'b.jpg')]) {
  const dir = writeFiles(tempDir('truth-'), { 'truth.csv': text });
  return readTruthFile(path.join(dir, 'truth.csv'), inputs, classes);
}

async function failure(text: string): Promise<PipelineError> {
  const error = await read(text).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

describe('readTruthFile', () => {
  it('reads boxes and points, by image', async () => {
    const truth = await read(
      'image,label,x,y,width,height,cx,cy\na.jpg,with_mask,1,2,30,40,,\nsub/b.jpg,without_mask,,,,,15,16\n\n',
    );
    expect(truth.get('a.jpg')).toEqual([{ label: 'with_mask', box: { x: 1, y: 2, width: 30, height: 40 } }]);
    expect(truth.get(path.join('sub', 'b.jpg'))).toEqual([{ label: 'without_mask', point: { x: 15, y: 16 } }]);
  });

  it('names the file and row of an unknown image, an unknown label, a row with no place, a bad header', async () => {
    const unknownImage = await failure('image,label,cx,cy\nc.jpg,with_mask,1,2\n');
    expect(unknownImage.code).toBe('DATA_INVALID');
    expect(unknownImage.message).toMatch(/truth\.csv:2: image 'c\.jpg' is not an input$/);
    const unknownLabel = await failure('image,label,cx,cy\na.jpg,with_mask,1,2\na.jpg,masked,3,4\n');
    expect(unknownLabel.message).toMatch(/truth\.csv:3: label 'masked' is not a class of the model/);
    expect((await failure('image,label,cx,cy\na.jpg,with_mask,1,\n')).message).toMatch(/truth\.csv:2: needs numbers/);
    expect((await failure('image,label,x,y\na.jpg,with_mask,1,2\n')).message).toMatch(/truth\.csv:1: the header/);
  });
});

describe('formatTruthTable', () => {
  it('prints counts, missed, extra and the accuracy over found faces', () => {
    const table = {
      ...emptyTruthTable(classes),
      counts: [
        [3, 1],
        [0, 4],
      ],
      missed: [1, 0],
      extra: [0, 2],
      matched: 8,
      truthFaces: 9,
      accuracy: 7 / 8,
    };
    const text = formatTruthTable(table);
    expect(text).toContain('truth \\ predicted  with_mask  without_mask  missed');
    expect(text).toMatch(/^with_mask\s+3\s+1\s+1$/m);
    expect(text).toMatch(/^extra\s+0\s+2$/m);
    expect(text).toContain('accuracy 87.5% (7 of 8 found faces classified right); 1 of 9 truth faces missed; 2 extra');
  });
});
