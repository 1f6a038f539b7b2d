import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classificationReport,
  formatClassificationReport,
  formatFixed,
} from '../../../../src/ml/metrics/classification-report.js';
import { ROOT } from '../../../helpers/temp-project.js';

interface SklearnCase {
  name: string;
  classes: string[];
  yTrue: number[];
  yPred: number[];
  digits: number;
  dict: Record<string, { precision: number; recall: number; 'f1-score': number; support: number } | number>;
  text: string;
  confusion: number[][];
}

// Computed once by scikit-learn (test/fixtures/make-sklearn-reports.py): the independent oracle.
const fixture = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/sklearn-reports.json'), 'utf8')) as {
  cases: SklearnCase[];
};

describe('classificationReport equals scikit-learn', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const report = classificationReport(c.yTrue, c.yPred, c.classes);
    const close = (ours: number, theirs: number) => expect(ours).toBeCloseTo(theirs, 12);
    c.classes.forEach((name, k) => {
      const theirs = c.dict[name] as Exclude<SklearnCase['dict'][string], number>;
      const ours = report.perClass[k];
      close(ours?.precision ?? NaN, theirs.precision);
      close(ours?.recall ?? NaN, theirs.recall);
      close(ours?.f1 ?? NaN, theirs['f1-score']);
      expect(ours?.support).toBe(theirs.support);
    });
    close(report.accuracy, c.dict.accuracy as number);
    for (const [ours, key] of [
      [report.macroAvg, 'macro avg'],
      [report.weightedAvg, 'weighted avg'],
    ] as const) {
      const theirs = c.dict[key] as Exclude<SklearnCase['dict'][string], number>;
      close(ours.precision, theirs.precision);
      close(ours.recall, theirs.recall);
      close(ours.f1, theirs['f1-score']);
      expect(ours.support).toBe(theirs.support);
    }
    expect(report.confusion).toEqual(c.confusion);
    expect(formatClassificationReport(report, c.digits)).toBe(c.text);
  });
});

describe('formatFixed rounds like Python', () => {
  it.each([
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [0.1 + 0.2, 2, '0.30'],
    [1, 2, '1.00'],
    [0.995, 2, '0.99'], // 0.995 is stored as 0.99499999...
    [0.9999, 2, '1.00'],
  ])('%d with %d digits → %s', (value, digits, expected) => {
    expect(formatFixed(value, digits)).toBe(expected);
  });
});
