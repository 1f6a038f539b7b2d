/** Dependency-free SVG charts, rasterised with sharp (librsvg) so no browser is needed. */

export interface Series {
  name: string;
  color: string;
  values: number[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  width: number;
  height: number;
  series: Series[];
  /** Legend entries; default one per series. Many series sharing colours (one per grid value) list the colours. */
  legend?: { name: string; color: string }[];
  /** Whether the y axis starts at 0 (default); false zooms to the data, for curves that differ little. */
  zeroBased?: boolean;
}

/** The font every chart uses. */
export const FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"';

/** Escapes text for SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A line chart of per-epoch values (x = 1..n), with axes, ticks and a legend. Non-finite values are gaps. */
export function lineChart(options: LineChartOptions): string {
  const { width, height } = options;
  const margin = { left: 56, right: 16, top: 48, bottom: 44 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const finite = options.series.flatMap((s) => s.values.filter(Number.isFinite));
  const count = Math.max(1, ...options.series.map((s) => s.values.length));
  const floor = options.zeroBased === false ? Infinity : 0;
  const [low, high] = niceRange(Math.min(floor, ...finite), Math.max(1e-9, ...finite));
  const x = (i: number) => margin.left + (count === 1 ? plotW / 2 : (i / (count - 1)) * plotW);
  const y = (v: number) => margin.top + plotH - ((v - low) / (high - low)) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const value = low + ((high - low) * t) / 4;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${y(value) + 4}" text-anchor="end" font-size="11" ${FONT}>${formatTick(value)}</text>`,
    );
  }
  const step = Math.max(1, Math.ceil(count / 10));
  for (let i = 0; i < count; i += step) {
    parts.push(
      `<text x="${x(i)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" ${FONT}>${i + 1}</text>`,
    );
  }
  // The legend sits in the top margin, right-aligned, so it never covers a curve.
  const legendParts: string[] = [];
  const legend = options.legend ?? options.series;
  // Entries are as wide as their text (about 7 px a character at 12 px), laid out right to left.
  const widths = legend.map((entry) => 40 + entry.name.length * 7);
  legend.forEach((entry, index) => {
    const lx = width - margin.right - widths.slice(index).reduce((sum, w) => sum + w, 0);
    const ly = margin.top - 10;
    legendParts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${entry.color}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${ly}" font-size="12" ${FONT}>${escapeXml(entry.name)}</text>`,
    );
  });
  options.series.forEach((series) => {
    const points = series.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null));
    const segments = points
      .join(' ')
      .split(/\s*null\s*/)
      .filter((segment) => segment.trim().length > 0);
    for (const segment of segments) {
      parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${segment.trim()}"/>`);
    }
    series.values.forEach((v, i) => {
      if (Number.isFinite(v))
        parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${series.color}"/>`);
    });
  });
  return svg(width, height, [
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    ...parts,
    ...legendParts,
    `<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(options.xLabel)}</text>`,
  ]);
}

/** A confusion matrix heat map: rows are true classes, columns predicted, counts in the cells. */
export function confusionChart(matrix: number[][], classes: string[], title: string): string {
  const cell = 90;
  const labelW = Math.max(90, ...classes.map((c) => c.length * 8 + 16));
  const top = 70;
  const width = labelW + cell * classes.length + 20;
  const height = top + cell * classes.length + 50;
  const max = Math.max(1, ...matrix.flat());
  const parts: string[] = [];
  matrix.forEach((row, r) =>
    row.forEach((value, c) => {
      const shade = Math.round(255 - (value / max) * 200);
      const fill = `rgb(${shade},${shade},255)`;
      const cx = labelW + c * cell;
      const cy = top + r * cell;
      parts.push(`<rect x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>`);
      const ink = value / max > 0.6 ? '#fff' : '#000';
      parts.push(
        `<text x="${cx + cell / 2}" y="${cy + cell / 2 + 6}" text-anchor="middle" font-size="18" fill="${ink}" ${FONT}>${value}</text>`,
      );
    }),
  );
  classes.forEach((name, k) => {
    parts.push(
      `<text x="${labelW - 8}" y="${top + k * cell + cell / 2 + 4}" text-anchor="end" font-size="12" ${FONT}>${escapeXml(name)}</text>`,
    );
    parts.push(
      `<text x="${labelW + k * cell + cell / 2}" y="${top - 8}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(name)}</text>`,
    );
  });
  return svg(width, height, [
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    `<text x="${labelW + (cell * classes.length) / 2}" y="44" text-anchor="middle" font-size="12" ${FONT}>predicted</text>`,
    `<text x="12" y="${top + (cell * classes.length) / 2}" font-size="12" transform="rotate(-90 12 ${top + (cell * classes.length) / 2})" text-anchor="middle" ${FONT}>true</text>`,
    ...parts,
  ]);
}

/** An SVG document of `width` × `height` on a white background. */
export function svg(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#fff"/>${body.join('')}</svg>`;
}

/** A range covering [low, high] with round ends (at most four steps of 1, 2, 2.5 or 5 × 10^k). */
export function niceRange(low: number, high: number): [number, number] {
  if (high - low < 1e-9) return [low, low + 1];
  const span = high - low;
  const magnitude = 10 ** Math.floor(Math.log10(span));
  const stepSize = [1, 2, 2.5, 5, 10].map((f) => (f * magnitude) / 4).find((s) => span / s <= 4) ?? magnitude;
  return [Math.floor(low / stepSize) * stepSize, Math.ceil(high / stepSize) * stepSize];
}

/** A tick label: three significant digits, no trailing zeros. */
export function formatTick(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}
