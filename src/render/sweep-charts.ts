import { escapeXml, FONT, formatTick, lineChart, svg } from './svg-charts.js';

/** One trial as the sweep charts see it: grid values, objective, per-epoch metrics. */
export interface ChartTrial {
  id: string;
  params: Record<string, unknown>;
  objective: number | undefined;
  history: Record<string, number>[];
}

/** Ten distinct colours (matplotlib's tab10), for the values of one grid parameter. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** The distinct values of a grid parameter, in first-seen order, as strings. */
export function valuesOf(trials: readonly ChartTrial[], key: string): string[] {
  return [...new Set(trials.map((t) => String(t.params[key])))];
}

/** Every trial's curve of `metric` per epoch on one chart, coloured by the value of grid parameter `colorBy`. */
export function overlaidCurves(
  trials: readonly ChartTrial[],
  metric: string,
  colorBy: string | undefined,
  size: { width: number; height: number },
): string {
  const values = colorBy ? valuesOf(trials, colorBy) : [];
  const colorOf = (t: ChartTrial) =>
    PALETTE[Math.max(0, values.indexOf(String(colorBy ? t.params[colorBy] : ''))) % PALETTE.length] ?? '#444';
  return lineChart({
    title: `${metric} per epoch, every trial${colorBy ? ` (colour: ${colorBy})` : ''}`,
    xLabel: 'epoch',
    ...size,
    series: trials.map((t) => ({ name: t.id, color: colorOf(t), values: t.history.map((row) => row[metric] ?? NaN) })),
    zeroBased: false,
    legend: values.map((value, i) => ({
      name: `${colorBy ?? ''}=${value}`,
      color: PALETTE[i % PALETTE.length] ?? '#444',
    })),
  });
}

/** White → green for objective values in [low, high] (a lone value is mid-green); grey when missing. */
function shade(value: number | undefined, low: number, high: number): string {
  if (value === undefined) return '#ddd';
  const t = high > low ? (value - low) / (high - low) : 0.5;
  const mix = (from: number, to: number) => Math.round(from + (to - from) * t);
  return `rgb(${mix(247, 0)},${mix(252, 109)},${mix(245, 44)})`;
}

/**
 * The objective over two grid parameters (rows × columns), one panel per value of a third (e.g. lr × optimizer, one
 * panel per batch size); the best cell outlined. Parameters beyond three are averaged over.
 */
export function gridHeatMap(
  trials: readonly ChartTrial[],
  keys: { rows: string; columns?: string; panels?: string },
  objective: { metric: string; goal: 'maximize' | 'minimize' },
): string {
  const rows = valuesOf(trials, keys.rows);
  const columns = keys.columns ? valuesOf(trials, keys.columns) : [''];
  const panels = keys.panels ? valuesOf(trials, keys.panels) : [''];
  const found = trials.map((t) => t.objective).filter((v): v is number => v !== undefined);
  const [low, high] = [Math.min(...found), Math.max(...found)];
  const best = objective.goal === 'maximize' ? high : low;
  const cell = { w: 90, h: 40 };
  const labelW = 16 + Math.max(...rows.map((row) => `${keys.rows}=${row}`.length)) * 7.5;
  const panelW = labelW + columns.length * cell.w + 30;
  const top = 78;
  const width = Math.max(360, panels.length * panelW + 10);
  const height = top + rows.length * cell.h + 20;
  const parts: string[] = [
    `<text x="10" y="22" font-size="15" font-weight="bold" ${FONT}>${escapeXml(`${objective.metric} by ${[keys.rows, keys.columns, keys.panels].filter(Boolean).join(' × ')}`)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const x0 = 10 + p * panelW;
    if (keys.panels)
      parts.push(
        `<text x="${x0 + labelW}" y="46" font-size="13" font-weight="bold" ${FONT}>${escapeXml(`${keys.panels}=${panel}`)}</text>`,
      );
    columns.forEach((column, c) =>
      parts.push(
        `<text x="${x0 + labelW + c * cell.w + cell.w / 2}" y="${top - 8}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(keys.columns ? column : '')}</text>`,
      ),
    );
    rows.forEach((row, r) => {
      const y = top + r * cell.h;
      parts.push(
        `<text x="${x0 + labelW - 8}" y="${y + cell.h / 2 + 4}" text-anchor="end" font-size="12" ${FONT}>${escapeXml(`${keys.rows}=${row}`)}</text>`,
      );
      columns.forEach((column, c) => {
        const match = trials.filter(
          (t) =>
            String(t.params[keys.rows]) === row &&
            (!keys.columns || String(t.params[keys.columns]) === column) &&
            (!keys.panels || String(t.params[keys.panels]) === panel) &&
            t.objective !== undefined,
        );
        const value =
          match.length > 0 ? match.reduce((sum, t) => sum + (t.objective ?? 0), 0) / match.length : undefined;
        const x = x0 + labelW + c * cell.w;
        const outline = value === best ? ' stroke="#000" stroke-width="3"' : ' stroke="#fff"';
        parts.push(
          `<rect class="cell" x="${x}" y="${y}" width="${cell.w}" height="${cell.h}" fill="${shade(value, low, high)}"${outline}/>`,
        );
        const ink = value !== undefined && high > low && (value - low) / (high - low) > 0.6 ? '#fff' : '#000';
        parts.push(
          `<text x="${x + cell.w / 2}" y="${y + cell.h / 2 + 5}" text-anchor="middle" font-size="13" fill="${ink}" ${FONT}>${value === undefined ? '–' : value.toFixed(4)}</text>`,
        );
      });
    });
  });
  return svg(width, height, parts);
}

/** Parallel coordinates: one axis per grid parameter (its values evenly spaced) and one for the objective. */
export function parallelCoordinates(
  trials: readonly ChartTrial[],
  keys: readonly string[],
  objective: { metric: string; goal: 'maximize' | 'minimize' },
  size: { width: number; height: number },
): string {
  const axes = [...keys, objective.metric];
  const margin = { left: 60, right: 80, top: 56, bottom: 30 };
  const plotH = size.height - margin.top - margin.bottom;
  const x = (a: number) =>
    margin.left + (axes.length === 1 ? 0 : (a * (size.width - margin.left - margin.right)) / (axes.length - 1));
  const found = trials.map((t) => t.objective).filter((v): v is number => v !== undefined);
  const [low, high] = [Math.min(...found), Math.max(...found)];
  const yObjective = (v: number) => margin.top + plotH - (high > low ? ((v - low) / (high - low)) * plotH : plotH / 2);
  const yValue = (key: string, value: string) => {
    const values = valuesOf(trials, key);
    return margin.top + (values.length === 1 ? plotH / 2 : (values.indexOf(value) * plotH) / (values.length - 1));
  };
  const parts: string[] = [
    `<text x="10" y="22" font-size="15" font-weight="bold" ${FONT}>${escapeXml(`Grid parameters → ${objective.metric} (darker: better)`)}</text>`,
  ];
  const ordered = [...trials]
    .filter((t) => t.objective !== undefined)
    .sort((a, b) => (a.objective ?? 0) - (b.objective ?? 0));
  if (objective.goal === 'minimize') ordered.reverse();
  ordered.forEach((t, i) => {
    const points = keys.map((key, a) => `${x(a).toFixed(1)},${yValue(key, String(t.params[key])).toFixed(1)}`);
    points.push(`${x(keys.length).toFixed(1)},${yObjective(t.objective ?? 0).toFixed(1)}`);
    const strength = ordered.length === 1 ? 1 : i / (ordered.length - 1);
    const color = `rgb(${Math.round(200 - 170 * strength)},${Math.round(210 - 120 * strength)},${Math.round(240 - 60 * strength)})`;
    parts.push(
      `<polyline class="trial" fill="none" stroke="${color}" stroke-width="${1.5 + strength * 1.5}" points="${points.join(' ')}"><title>${escapeXml(t.id)}</title></polyline>`,
    );
  });
  axes.forEach((key, a) => {
    parts.push(`<line x1="${x(a)}" x2="${x(a)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`);
    parts.push(
      `<text x="${x(a)}" y="${margin.top - 14}" text-anchor="middle" font-size="12" font-weight="bold" ${FONT}>${escapeXml(key)}</text>`,
    );
    const ticks =
      a < keys.length
        ? valuesOf(trials, key).map((v) => [v, yValue(key, v)] as const)
        : [low, (low + high) / 2, high].map((v) => [formatTick(v), yObjective(v)] as const);
    for (const [label, y] of ticks) {
      parts.push(`<text x="${x(a) + 6}" y="${y + 4}" font-size="11" ${FONT}>${escapeXml(label)}</text>`);
    }
  });
  return svg(size.width, size.height, parts);
}
