import { describe, expect, it } from 'vitest';
import { renderReportHtml, type ReportData, type ReportTrial } from '../../../src/render/report-html.js';

const trial = (
  id: string,
  lr: number,
  optimizer: string,
  objective: number | undefined,
  best = false,
): ReportTrial => ({
  id,
  label: `lr=${lr}`,
  params: { 'train.lr': lr, 'train.optimizer': optimizer },
  state: objective === undefined ? 'failed' : 'done',
  objective,
  metrics: objective === undefined ? {} : { val_accuracy: objective, images: 80 },
  best,
  history: [
    { epoch: 1, loss: 0.7, val_loss: 0.69, val_accuracy: 0.5 },
    { epoch: 2, loss: 0.6, val_loss: 0.65, val_accuracy: objective ?? NaN },
  ],
});

const data: ReportData = {
  sweep: 'lr <sweep>',
  pipeline: 'face-mask',
  generatedAt: '2026-11-23T00:00:00Z',
  objective: { metric: 'val_accuracy', goal: 'maximize' },
  gridKeys: ['train.lr', 'train.optimizer'],
  trials: [
    trial('t02', 0.001, 'adam', 0.8, true),
    trial('t01', 0.01, 'adam', 0.6),
    trial('t03', 0.01, 'sgd', undefined),
  ],
  nodeStates: { ran: 9, cached: 2, failed: 1 },
  best: {
    id: 't02',
    label: 'lr=0.001',
    classificationReport: 'precision <b>',
    images: [{ title: 'CAM', png: Buffer.from('png') }],
  },
  montage: { title: 'Synthesized masks (montage)', png: Buffer.from('montage') },
};

describe('renderReportHtml', () => {
  const html = renderReportHtml(data);

  it('is one self-contained page: inline charts and data-URL pictures, no external reference', () => {
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).toContain(`src="data:image/png;base64,${Buffer.from('montage').toString('base64')}"`);
    expect(html).toContain('<h2>Synthesized examples</h2>');
  });

  it('escapes names and text, marks the best row, shows counts as counts and grid values as written', () => {
    expect(html).toContain('Sweep lr &#60;sweep&#62;');
    expect(html).toContain('precision &#60;b&#62;');
    expect(html.match(/<tr class="best">/g)).toHaveLength(1);
    expect(html).toContain('<td data-value="0.001">0.001</td>');
    expect(html).toContain('<td data-value="80">80</td>');
    expect(html).toContain('<td data-value="0.8">0.8000</td>');
    expect(html).toMatch(/ran: <b>9<\/b>.*cached: <b>2<\/b>.*failed: <b>1<\/b>/);
  });

  it('says so when no trial has a result, and leaves the montage out when there is none', () => {
    const empty = renderReportHtml({ ...data, trials: [trial('t03', 0.01, 'sgd', undefined)], montage: undefined });
    expect(empty).toContain('No trial has a result yet.');
    expect(empty).not.toContain('Synthesized examples');
  });
});
