import { escapeXml } from './svg-charts.js';
import { gridHeatMap, overlaidCurves, parallelCoordinates, valuesOf, type ChartTrial } from './sweep-charts.js';

/** One trial's row in the report. */
export interface ReportTrial extends ChartTrial {
  label: string;
  state: string;
  metrics: Record<string, number>;
  best: boolean;
}

/** A picture of the report: a PNG (inlined as a data URL) under a heading. */
export interface ReportImage {
  title: string;
  png: Buffer;
}

/** Everything the sweep report shows; gathered by the `report` command, drawn here. */
export interface ReportData {
  sweep: string;
  pipeline: string;
  generatedAt: string;
  objective: { metric: string; goal: 'maximize' | 'minimize' };
  /** Grid parameters (dot-paths), in the sweep file's order. */
  gridKeys: string[];
  trials: ReportTrial[];
  /** Nodes by how the last run left them (ran, cached, failed, skipped, pending). */
  nodeStates: Record<string, number>;
  /** The best trial's classification report (text), confusion matrix and pictures. */
  best?: { id: string; label: string; classificationReport?: string; images: ReportImage[] };
  montage?: ReportImage;
  /** Files the ingest stage could not read, with the decoder's reason for each. */
  skippedFiles?: { file: string; reason: string }[];
}

const CSS = `body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table.results{border-collapse:collapse;font-size:13px}table.results th,table.results td{border:1px solid #ccc;padding:4px 8px;text-align:right}
table.results th{background:#f3f3f3;cursor:pointer;user-select:none}table.results th:after{content:" \\2195";color:#aaa}
table.results tr.best{background:#fff6c8;font-weight:bold}td.text,th.text{text-align:left}
figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}figcaption{font-size:13px;color:#555}
.scroll{overflow-x:auto}pre{background:#f7f7f7;padding:8px;font-size:13px}.summary span{margin-right:18px}`;

// Sorts by the clicked column: numbers numerically (from data-value), text alphabetically; a second click reverses.
const SORT_SCRIPT = `document.querySelectorAll('table.results th').forEach(function(th,col){th.addEventListener('click',function(){
var body=th.closest('table').tBodies[0];var rows=Array.prototype.slice.call(body.rows);var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';
rows.sort(function(a,b){var x=a.cells[col].dataset.value,y=b.cells[col].dataset.value;var nx=parseFloat(x),ny=parseFloat(y);
if(!isNaN(nx)&&!isNaN(ny))return dir*(nx-ny);if(isNaN(nx)!==isNaN(ny))return isNaN(nx)?1:-1;return dir*String(x).localeCompare(String(y));});
rows.forEach(function(r){body.appendChild(r);});});});`;

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
// Metrics get 4 decimals; counts (and grid values, passed as text) are shown as they are.
const cellOf = (value: unknown, digits = 4) => {
  const number = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
  const text = typeof value === 'number' ? (Number.isFinite(value) ? number(value) : '') : textOf(value);
  const klass = typeof value === 'number' ? '' : ' class="text"';
  return `<td${klass} data-value="${escapeXml(typeof value === 'number' ? String(value) : text)}">${escapeXml(text)}</td>`;
};

/** A grid value as written in the sweep file, sorted as a number when it is one. */
function gridCell(value: unknown): string {
  const text = textOf(value);
  const klass = typeof value === 'number' ? '' : ' class="text"';
  return `<td${klass} data-value="${escapeXml(text)}">${escapeXml(text)}</td>`;
}

function resultsTable(data: ReportData): string {
  const metricKeys = [...new Set(data.trials.flatMap((t) => Object.keys(t.metrics)))]
    .filter((k) => k !== data.objective.metric)
    .sort();
  const head = ['trial', ...data.gridKeys, 'state', `${data.objective.metric} (${data.objective.goal})`, ...metricKeys];
  const header = head
    .map((h, i) => `<th${i === 0 || i <= data.gridKeys.length + 1 ? ' class="text"' : ''}>${escapeXml(h)}</th>`)
    .join('');
  const rows = data.trials.map((t) => {
    const cells = [
      cellOf(`${t.best ? '★ ' : ''}${t.id}`),
      ...data.gridKeys.map((k) => gridCell(t.params[k])),
      cellOf(t.state),
      t.objective === undefined ? cellOf('') : cellOf(t.objective),
      ...metricKeys.map((k) => (t.metrics[k] === undefined ? cellOf('') : cellOf(t.metrics[k]))),
    ];
    return `<tr${t.best ? ' class="best"' : ''}>${cells.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="results" id="results"><thead><tr>${header}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const figure = (body: string, caption: string) =>
  `<figure>${body}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
const image = (picture: ReportImage) =>
  figure(
    `<img alt="${escapeXml(picture.title)}" src="data:image/png;base64,${picture.png.toString('base64')}">`,
    picture.title,
  );

function sweepCharts(data: ReportData): string[] {
  // In trial order, which is the grid's order, so axes list values as the sweep file does.
  const done = data.trials
    .filter((t) => t.objective !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  if (done.length === 0) return ['<p>No trial has a result yet.</p>'];
  // Colour by the grid parameter with the most values: the one whose effect is hardest to read from the table.
  const colorBy = [...data.gridKeys].sort((a, b) => valuesOf(done, b).length - valuesOf(done, a).length)[0];
  const size = { width: 720, height: 420 };
  const sections = [
    '<h2>Learning curves</h2>',
    figure(overlaidCurves(done, 'val_accuracy', colorBy, size), 'Validation accuracy of every trial'),
    figure(overlaidCurves(done, 'val_loss', colorBy, size), 'Validation loss of every trial'),
    figure(overlaidCurves(done, 'loss', colorBy, size), 'Training loss of every trial'),
  ];
  const [rows, columns, panels] = data.gridKeys;
  if (rows !== undefined) {
    sections.push('<h2>Grid</h2>');
    sections.push(
      figure(
        gridHeatMap(done, { rows, ...(columns ? { columns } : {}), ...(panels ? { panels } : {}) }, data.objective),
        `${data.objective.metric} over the grid; best outlined`,
      ),
    );
    sections.push(
      figure(
        parallelCoordinates(done, data.gridKeys, data.objective, { width: 900, height: 380 }),
        'Parallel coordinates',
      ),
    );
  }
  return sections;
}

/** The sweep report: one self-contained HTML page (inline SVG and PNG, no network), sortable results table. */
export function renderReportHtml(data: ReportData): string {
  const states = Object.entries(data.nodeStates).map(
    ([state, count]) => `<span>${escapeXml(state)}: <b>${count}</b></span>`,
  );
  const best = data.best;
  const bestSection = best
    ? [
        `<h2>Best trial: ${escapeXml(best.id)} (${escapeXml(best.label)})</h2>`,
        best.classificationReport
          ? `<pre id="classification-report">${escapeXml(best.classificationReport)}</pre>`
          : '',
        ...best.images.map(image),
      ]
    : [];
  const body = [
    `<h1>Sweep ${escapeXml(data.sweep)}</h1>`,
    `<p class="summary"><span>pipeline: <b>${escapeXml(data.pipeline)}</b></span><span>trials: <b>${data.trials.length}</b></span>${states.join('')}<span>objective: <b>${escapeXml(`${data.objective.goal} ${data.objective.metric}`)}</b></span><span>generated ${escapeXml(data.generatedAt)}</span></p>`,
    '<h2>Results</h2><p>Click a column to sort; ★ marks the best trial.</p>',
    resultsTable(data),
    ...sweepCharts(data),
    ...bestSection,
    ...(data.montage ? ['<h2>Synthesized examples</h2>', image(data.montage)] : []),
    ...skippedSection(data.skippedFiles ?? []),
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(`Sweep ${data.sweep}`)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>${CSS}</style></head>
<body>
${body.join('\n')}
<script>${SORT_SCRIPT}</script>
</body></html>
`;
}

function skippedSection(files: readonly { file: string; reason: string }[]): string[] {
  if (files.length === 0) return [];
  const items = files.map((f) => `<li><code>${escapeXml(f.file)}</code>: ${escapeXml(f.reason)}</li>`);
  return [`<h2>Files skipped by ingest (${files.length})</h2>`, `<ul id="skipped-files">${items.join('')}</ul>`];
}
