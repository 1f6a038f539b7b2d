/** Precision, recall, F1 and support of one class or one average, as scikit-learn computes them. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** scikit-learn's `classification_report(..., output_dict=True)`, plus the confusion matrix. */
export interface ClassificationReport {
  classes: string[];
  perClass: ClassScores[];
  accuracy: number;
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
  /** confusion[true][predicted], as sklearn's `confusion_matrix`. */
  confusion: number[][];
}

/**
 * Computes the report for integer labels 0..classes.length-1. Zero divisions count as 0, matching scikit-learn's
 * default `zero_division="warn"`.
 */
export function classificationReport(
  yTrue: readonly number[],
  yPred: readonly number[],
  classes: readonly string[],
): ClassificationReport {
  const n = classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  yTrue.forEach((truth, index) => {
    const row = confusion[truth];
    const predicted = yPred[index] ?? -1;
    if (row && predicted >= 0 && predicted < n) row[predicted] = (row[predicted] ?? 0) + 1;
  });
  const perClass = classes.map((_, k) => {
    const tp = confusion[k]?.[k] ?? 0;
    const predicted = confusion.reduce((sum, row) => sum + (row[k] ?? 0), 0);
    const support = (confusion[k] ?? []).reduce((sum, value) => sum + value, 0);
    // F1 from counts, as scikit-learn computes it (not from the rounded precision and recall).
    const f1 = divide(2 * tp, 2 * tp + (predicted - tp) + (support - tp));
    return { precision: divide(tp, predicted), recall: divide(tp, support), f1, support };
  });
  const total = yTrue.length;
  const correct = perClass.reduce((sum, _, k) => sum + (confusion[k]?.[k] ?? 0), 0);
  return {
    classes: [...classes],
    perClass,
    accuracy: divide(correct, total),
    macroAvg: average(perClass, () => 1, total),
    weightedAvg: average(perClass, (scores) => scores.support, total),
    confusion,
  };
}

function divide(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** numpy's `average(values, weights)`: Σ value·weight / Σ weight, in that order of operations. */
function average(rows: readonly ClassScores[], weight: (row: ClassScores) => number, total: number): ClassScores {
  const weights = rows.reduce((acc, row) => acc + weight(row), 0);
  const sum = (pick: (row: ClassScores) => number) =>
    divide(
      rows.reduce((acc, row) => acc + pick(row) * weight(row), 0),
      weights,
    );
  return { precision: sum((r) => r.precision), recall: sum((r) => r.recall), f1: sum((r) => r.f1), support: total };
}

/** The text table of `classification_report(digits=digits)`, character for character. */
export function formatClassificationReport(report: ClassificationReport, digits = 2): string {
  const width = Math.max(...report.classes.map((name) => name.length), 'weighted avg'.length, digits);
  const cell = (text: string) => text.padStart(9);
  const row = (name: string, scores: ClassScores) =>
    `${name.padStart(width)} ${[scores.precision, scores.recall, scores.f1].map((v) => ` ${cell(formatFixed(v, digits))}`).join('')} ${cell(String(scores.support))}\n`;
  let text = `${''.padStart(width)} ${['precision', 'recall', 'f1-score', 'support'].map((h) => ` ${cell(h)}`).join('')}\n\n`;
  report.classes.forEach((name, k) => {
    const scores = report.perClass[k];
    if (scores) text += row(name, scores);
  });
  text += '\n';
  const support = report.macroAvg.support;
  const accuracyCells = ['', '', formatFixed(report.accuracy, digits), String(support)].map((v) => ` ${cell(v)}`);
  text += `${'accuracy'.padStart(width)} ${accuracyCells.join('')}\n`;
  text += row('macro avg', report.macroAvg);
  text += row('weighted avg', report.weightedAvg);
  return text;
}

/**
 * Python's `format(x, '.Nf')`: rounds the exact binary value half-to-even, where JavaScript's toFixed rounds
 * exact ties up (0.125 → "0.12" in Python, "0.13" in JS).
 */
export function formatFixed(value: number, digits: number): string {
  const exact = Math.abs(value).toFixed(Math.min(100, digits + 60));
  const [whole = '0', fraction = ''] = exact.split('.');
  const kept = fraction.slice(0, digits);
  const rest = fraction.slice(digits);
  const half = rest[0] === '5' && /^50*$/.test(rest);
  const lastDigit = Number((digits > 0 ? kept : whole).slice(-1));
  const roundUp = rest[0] !== undefined && (rest[0] > '5' || (rest[0] === '5' && (!half || lastDigit % 2 === 1)));
  let digitsText = whole + kept;
  if (roundUp) digitsText = (BigInt(digitsText) + 1n).toString().padStart(digitsText.length, '0');
  const intPart = digitsText.slice(0, digitsText.length - digits) || '0';
  const text = digits > 0 ? `${intPart}.${digitsText.slice(-digits)}` : intPart;
  return value < 0 || Object.is(value, -0) ? `-${text}` : text;
}
