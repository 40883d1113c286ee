/**
 * Line and bar charts as standalone SVG strings, for the report and for anyone who wants a picture of a
 * pruning sweep (accuracy vs sparsity per criterion, speedup vs sparsity next to the ideal 1/(1−s)).
 *
 * Pure and deterministic: no DOM, no I/O, no clock, no randomness. The same options always give the same
 * string, so charts can be snapshot-tested and diffed, and they render the same in Node and the browser.
 *
 * What a chart contains: a title, "nice" ticks with gridlines (see scale.ts for the linear, log and
 * sparsity axes), axis titles, one polyline plus markers per series (each marker has a `<title>` tooltip
 * with its values), optional horizontal reference lines (speedup = 1), and a legend below the plot where
 * it can never cover the data. Styling is done with presentation attributes only, never a `<style>`
 * element, because CSS inside an inline SVG leaks into the whole HTML page that embeds it.
 *
 * Data rules: points with a non-finite coordinate, or a value the axis cannot show (≤ 0 on a log axis,
 * outside [0, 1) on a sparsity axis), are skipped and break the line there, so a gap in the data shows as
 * a gap. Points outside an explicit domain are clipped. A chart with nothing to draw says "No data to
 * plot" instead of failing. Caller mistakes (a bad colour, a bad size, an impossible domain) throw
 * ConfigError.
 */
import { ConfigError } from '../errors.ts';
import { escapeXml } from './escape.ts';
import { formatCompact } from './format.ts';
import { checkDomain, createScale, extentFor, formatSparsity, niceDomain, scaleAccepts, type Domain, type Scale, type ScaleKind } from './scale.ts';

// ---------------------------------------------------------------------------------------------------------
// Public types.

/** One line on a line chart. */
export interface LineSeries {
  /** Shown in the legend and in every marker's tooltip. */
  readonly name: string;
  /** [x, y] pairs, drawn in the order given. Non-finite or unshowable points are skipped (the line breaks). */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Draw the line dashed, e.g. for a reference curve such as the ideal speedup 1/(1−s). */
  readonly dashed?: boolean;
  /** A CSS colour (#rgb, #rrggbb, a name, rgb()/hsl()); defaults to the next palette colour. */
  readonly color?: string;
  /** Draw a marker (with a tooltip) at each point; default true. */
  readonly markers?: boolean;
}

/** A horizontal line across the plot, e.g. y = 1 on a speedup chart ("no faster than dense"). */
export interface ReferenceLine {
  readonly y: number;
  readonly label?: string;
}

/** Options shared by line and bar charts. */
interface ChartFrameOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly yScale?: 'linear' | 'log';
  /** Fixes the y axis range; by default it is the data's range widened to tidy tick values. */
  readonly yDomain?: Domain;
  readonly yTickFormat?: (value: number) => string;
  readonly referenceLines?: readonly ReferenceLine[];
  /** Size in CSS pixels of the drawing (its viewBox); it scales to fit its container. Default 640 × 400. */
  readonly width?: number;
  readonly height?: number;
  /** Text for screen readers and the SVG `<desc>`; a summary is generated when omitted. */
  readonly description?: string;
}

export interface LineChartOptions extends ChartFrameOptions {
  readonly series: readonly LineSeries[];
  readonly xLabel: string;
  /** 'sparsity' spaces x by −log10(1 − s) so 90 %, 99 %, 99.9 % are evenly spaced (see scale.ts). */
  readonly xScale?: ScaleKind;
  readonly xDomain?: Domain;
  readonly xTickFormat?: (value: number) => string;
}

/** One group member on a bar chart: a value per category (null or non-finite = no bar). */
export interface BarSeries {
  readonly name: string;
  readonly values: ReadonlyArray<number | null>;
  readonly color?: string;
}

export interface BarChartOptions extends ChartFrameOptions {
  /** One group of bars per category, labelled under the x axis (e.g. layer names). */
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly xLabel?: string;
  /** Formats the value in each bar's tooltip; defaults to the y tick format. */
  readonly valueFormat?: (value: number) => string;
}

/**
 * The Okabe–Ito palette (Okabe & Ito 2002, "Color Universal Design"), which stays distinguishable under the
 * common colour-vision deficiencies. Ordered for a white background; the pale yellow comes last.
 */
export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

// ---------------------------------------------------------------------------------------------------------
// Layout constants (CSS pixels).

const FONT_FAMILY = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const TICK_FONT = 12;
const AXIS_TITLE_FONT = 13;
const TITLE_FONT = 16;
const LEGEND_FONT = 12;
const LEGEND_ROW = 20;
const MARKER_SIZE = 3.8;
const TICK_LENGTH = 5;
const MIN_PLOT_HEIGHT = 140;
const TEXT_COLOR = '#222';
const AXIS_COLOR = '#555';
const GRID_COLOR = '#e3e3e3';
const REFERENCE_COLOR = '#666';

// ---------------------------------------------------------------------------------------------------------
// Small helpers.

/** A pixel coordinate written with at most two decimals (short output, stable across runs). */
function px(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * An estimate of the rendered width of `text` in a sans-serif font. There is no font engine here, so
 * characters are sorted into narrow, normal and wide classes; good enough to keep labels from colliding.
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let ems = 0;
  for (const ch of text) {
    if (/[il.,:;'|!jtf()[\] ]/.test(ch)) ems += 0.34;
    else if (/[mwMW%@]/.test(ch)) ems += 0.92;
    else if (/[A-Z]/.test(ch)) ems += 0.7;
    else ems += 0.62; // digits and most lower-case letters; generous, as Linux fonts (DejaVu) run wide
  }
  return ems * fontSize * (bold ? 1.08 : 1);
}

/** Shortens text to at most `maxWidth` pixels, ending with "…" when cut. */
function truncateText(text: string, maxWidth: number, fontSize: number, bold = false): string {
  if (estimateTextWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = Array.from(text);
  while (chars.length > 1 && estimateTextWidth(chars.join('') + '…', fontSize, bold) > maxWidth) chars.pop();
  return chars.join('') + '…';
}

/** Breaks text into lines at most `maxWidth` wide (by words), keeping at most `maxLines`. */
function wrapText(text: string, maxWidth: number, fontSize: number, maxLines: number, bold = false): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (current !== '' && estimateTextWidth(candidate, fontSize, bold) > maxWidth) {
      lines.push(current);
      current = word;
    } else {
      current = candidate;
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = truncateText(`${kept[maxLines - 1] ?? ''} ${lines.slice(maxLines).join(' ')}`, maxWidth, fontSize, bold);
    return kept.map((line) => truncateText(line, maxWidth, fontSize, bold));
  }
  return lines.map((line) => truncateText(line, maxWidth, fontSize, bold));
}

const SAFE_COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9\s.,%/+-]{1,60}\))$/;

function checkColor(color: string | undefined, fallback: string, what: string): string {
  if (color === undefined) return fallback;
  if (typeof color !== 'string' || !SAFE_COLOR.test(color)) throw new ConfigError(`${what}: colour ${JSON.stringify(color)} is not a CSS colour this chart accepts (#rgb, #rrggbb, a name, rgb() or hsl())`);
  return color;
}

function checkSize(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 160 || value > 4000) throw new ConfigError(`chart ${name} must be a number from 160 to 4000 pixels, got ${value}`);
  return value;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${what} must be a string, got ${typeof value}`);
  return value;
}

/** An SVG `<text>` element; `content` is escaped here, attributes are trusted (built by this module). */
function textElement(x: number, y: number, content: string, attributes: string): string {
  return `<text x="${px(x)}" y="${px(y)}" ${attributes}>${escapeXml(content)}</text>`;
}

// ---------------------------------------------------------------------------------------------------------
// Markers: a different shape per series, so series stay apart even in greyscale or for colour-blind readers.

type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';
const MARKER_SHAPES: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];

function markerElement(shape: MarkerShape, x: number, y: number, color: string, tooltip: string | undefined): string {
  const s = MARKER_SIZE;
  const path = (...corners: Array<[number, number]>): string => `d="M${corners.map(([cx, cy]) => `${px(cx)} ${px(cy)}`).join('L')}Z"`;
  let tag: 'circle' | 'rect' | 'path';
  let geometry: string;
  switch (shape) {
    case 'circle':
      tag = 'circle';
      geometry = `cx="${px(x)}" cy="${px(y)}" r="${px(s)}"`;
      break;
    case 'square':
      tag = 'rect';
      geometry = `x="${px(x - s * 0.9)}" y="${px(y - s * 0.9)}" width="${px(s * 1.8)}" height="${px(s * 1.8)}"`;
      break;
    case 'triangle':
      tag = 'path';
      geometry = path([x, y - s * 1.15], [x + s, y + s * 0.75], [x - s, y + s * 0.75]);
      break;
    case 'triangle-down':
      tag = 'path';
      geometry = path([x, y + s * 1.15], [x + s, y - s * 0.75], [x - s, y - s * 0.75]);
      break;
    case 'diamond':
      tag = 'path';
      geometry = path([x, y - s * 1.2], [x + s * 1.2, y], [x, y + s * 1.2], [x - s * 1.2, y]);
      break;
  }
  const open = `<${tag} ${geometry} fill="${color}" stroke="#fff" stroke-width="1"`;
  return tooltip === undefined ? `${open}/>` : `${open}><title>${escapeXml(tooltip)}</title></${tag}>`;
}

// ---------------------------------------------------------------------------------------------------------
// Shared frame pieces: title, legend, y axis, empty message.

interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly marker: MarkerShape | undefined;
  readonly swatch: 'line' | 'box';
}

interface LegendLayout {
  readonly height: number;
  render(top: number): string[];
}

/** Lays legend entries out in rows that wrap at `maxWidth`, centred horizontally. */
function layoutLegend(entries: readonly LegendEntry[], left: number, maxWidth: number): LegendLayout {
  if (entries.length === 0) return { height: 0, render: () => [] };
  const swatchWidth = 24;
  const gap = 18;
  const items = entries.map((entry) => {
    const label = truncateText(entry.name, Math.max(60, maxWidth - swatchWidth - 6), LEGEND_FONT);
    return { entry, label, width: swatchWidth + 6 + estimateTextWidth(label, LEGEND_FONT) };
  });
  const rows: (typeof items)[] = [];
  let row: typeof items = [];
  let rowWidth = 0;
  for (const item of items) {
    const needed = row.length === 0 ? item.width : rowWidth + gap + item.width;
    if (row.length > 0 && needed > maxWidth) {
      rows.push(row);
      row = [item];
      rowWidth = item.width;
    } else {
      row.push(item);
      rowWidth = needed;
    }
  }
  rows.push(row);
  return {
    height: rows.length * LEGEND_ROW,
    render(top) {
      const parts = ['<g class="legend">'];
      rows.forEach((rowItems, rowIndex) => {
        const totalWidth = rowItems.reduce((sum, item) => sum + item.width, 0) + gap * (rowItems.length - 1);
        let x = left + (maxWidth - totalWidth) / 2;
        const y = top + rowIndex * LEGEND_ROW + LEGEND_ROW / 2;
        for (const { entry, label, width } of rowItems) {
          parts.push(`<g><title>${escapeXml(entry.name)}</title>`);
          if (entry.swatch === 'box') {
            parts.push(`<rect x="${px(x + 6)}" y="${px(y - 6)}" width="12" height="12" fill="${entry.color}"/>`);
          } else {
            const dash = entry.dashed ? ' stroke-dasharray="6 4"' : '';
            parts.push(`<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + swatchWidth)}" y2="${px(y)}" stroke="${entry.color}" stroke-width="2"${dash}/>`);
            if (entry.marker !== undefined) parts.push(markerElement(entry.marker, x + swatchWidth / 2, y, entry.color, undefined));
          }
          parts.push(textElement(x + swatchWidth + 6, y, label, `dominant-baseline="central" font-size="${LEGEND_FONT}" fill="${TEXT_COLOR}"`));
          parts.push('</g>');
          x += width + gap;
        }
      });
      parts.push('</g>');
      return parts;
    },
  };
}

/** Keeps every k-th tick (smallest k) so that no two labels overlap; `anchorLast` keeps the last tick. */
function thinTicks<T>(ticks: readonly T[], overlaps: (a: T, b: T) => boolean, anchorLast: boolean): T[] {
  for (let stride = 1; stride <= Math.max(1, ticks.length); stride++) {
    const kept = ticks.filter((_, i) => (anchorLast ? ticks.length - 1 - i : i) % stride === 0);
    let clear = true;
    for (let i = 1; i < kept.length && clear; i++) clear = !overlaps(kept[i - 1] as T, kept[i] as T);
    if (clear) return kept;
  }
  return ticks.slice(0, 1);
}

/**
 * Thins the ticks of an axis. A crowded log axis falls back to its powers of ten (1, 10, 100) rather
 * than every other 1-2-5 value, which would give an odd sequence such as 1, 5, 20, 100.
 */
function thinAxisTicks<T extends { readonly value: number }>(kind: ScaleKind, ticks: readonly T[], overlaps: (a: T, b: T) => boolean): T[] {
  const thinned = thinTicks(ticks, overlaps, kind === 'sparsity');
  if (kind !== 'log' || thinned.length === ticks.length) return thinned;
  const powers = ticks.filter((tick) => Math.abs(Math.log10(tick.value) - Math.round(Math.log10(tick.value))) < 1e-9);
  return powers.length >= 2 ? thinTicks(powers, overlaps, false) : thinned;
}

interface PlotBox {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Horizontal gridlines, y tick marks and labels, and the rotated y axis title. */
function renderYAxis(scale: Scale, format: (value: number) => string, box: PlotBox, yLabel: string): string[] {
  const ticks = thinAxisTicks(
    scale.kind,
    scale.ticks.map((value) => ({ value, y: scale.toPixel(value), label: format(value) })),
    (a, b) => Math.abs(a.y - b.y) < TICK_FONT * 1.3,
  );
  const parts = ['<g class="y-axis">'];
  for (const tick of ticks) {
    parts.push(`<line x1="${px(box.left)}" y1="${px(tick.y)}" x2="${px(box.right)}" y2="${px(tick.y)}" stroke="${GRID_COLOR}" stroke-width="1"/>`);
    parts.push(`<line x1="${px(box.left - TICK_LENGTH)}" y1="${px(tick.y)}" x2="${px(box.left)}" y2="${px(tick.y)}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
    parts.push(textElement(box.left - TICK_LENGTH - 3, tick.y, tick.label, `text-anchor="end" dominant-baseline="central" font-size="${TICK_FONT}" fill="${TEXT_COLOR}"`));
  }
  parts.push(`<line x1="${px(box.left)}" y1="${px(box.top)}" x2="${px(box.left)}" y2="${px(box.bottom)}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
  const titleX = 6 + AXIS_TITLE_FONT * 0.8;
  const titleY = (box.top + box.bottom) / 2;
  const title = truncateText(yLabel, box.bottom - box.top, AXIS_TITLE_FONT);
  parts.push(textElement(titleX, titleY, title, `transform="rotate(-90 ${px(titleX)} ${px(titleY)})" text-anchor="middle" font-size="${AXIS_TITLE_FONT}" fill="${TEXT_COLOR}"`));
  parts.push('</g>');
  return parts;
}

/** Horizontal reference lines with their labels just above the line at the right end. */
function renderReferenceLines(lines: readonly ReferenceLine[], scale: Scale, box: PlotBox): string[] {
  const parts: string[] = [];
  for (const line of lines) {
    const y = scale.toPixel(line.y);
    if (y < box.top - 0.5 || y > box.bottom + 0.5) continue; // outside an explicit domain
    parts.push(`<line class="reference" x1="${px(box.left)}" y1="${px(y)}" x2="${px(box.right)}" y2="${px(y)}" stroke="${REFERENCE_COLOR}" stroke-width="1.25" stroke-dasharray="3 3"/>`);
    if (line.label !== undefined && line.label !== '') {
      const label = truncateText(line.label, (box.right - box.left) / 2, TICK_FONT);
      parts.push(textElement(box.right - 4, y - 4, label, `text-anchor="end" font-size="${TICK_FONT}" fill="${REFERENCE_COLOR}"`));
    }
  }
  return parts;
}

/** The opening of every chart: root element, accessible title and description, white background, title. */
function openChart(width: number, height: number, title: string, description: string, titleLines: readonly string[], kind: string): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sg-chart sg-${kind}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" font-family="${escapeXml(FONT_FAMILY)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<desc>${escapeXml(description)}</desc>`,
    `<rect width="${px(width)}" height="${px(height)}" fill="#ffffff"/>`,
  ];
  titleLines.forEach((line, i) => {
    parts.push(textElement(width / 2, 12 + TITLE_FONT + i * TITLE_FONT * 1.25, line, `text-anchor="middle" font-size="${TITLE_FONT}" font-weight="600" fill="${TEXT_COLOR}"`));
  });
  return parts;
}

function titleHeight(lines: readonly string[]): number {
  return 12 + TITLE_FONT + (lines.length - 1) * TITLE_FONT * 1.25 + 14;
}

/** A chart frame with the title and a "No data to plot" message, for inputs with nothing drawable. */
function emptyChart(width: number, height: number, title: string, kind: string, reason: string): string {
  const titleLines = wrapText(title, width - 24, TITLE_FONT, 2, true);
  const top = titleHeight(titleLines);
  const parts = openChart(width, height, title, `${title}: ${reason}`, titleLines, kind);
  parts.push(`<rect x="12" y="${px(top)}" width="${px(width - 24)}" height="${px(Math.max(20, height - top - 12))}" fill="none" stroke="${GRID_COLOR}" stroke-width="1"/>`);
  parts.push(textElement(width / 2, (top + height - 12) / 2, reason, `text-anchor="middle" dominant-baseline="central" font-size="${AXIS_TITLE_FONT}" fill="${AXIS_COLOR}"`));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Checks reference lines (each must be showable on the y axis) and returns them, [] when absent. */
function checkReferenceLines(lines: readonly ReferenceLine[] | undefined, yKind: ScaleKind): readonly ReferenceLine[] {
  const checked = lines ?? [];
  for (const line of checked) {
    if (!scaleAccepts(yKind, line.y)) throw new ConfigError(`reference line y = ${line.y} cannot be shown on a ${yKind} y axis`);
    if (line.label !== undefined) checkText(line.label, 'reference line label');
  }
  return checked;
}

/** Formats an exact value for a tooltip: more digits than a tick label, percent on a sparsity axis. */
function tooltipValue(kind: ScaleKind, value: number): string {
  return kind === 'sparsity' ? formatSparsity(value) : formatCompact(value, 6);
}

// ---------------------------------------------------------------------------------------------------------
// Line chart.

interface PreparedSeries {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly markers: boolean;
  readonly shape: MarkerShape;
  /** Runs of consecutive drawable points; a skipped point ends a run. */
  readonly runs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
}

/** Splits a series into runs of points both axes can show. */
function drawableRuns(points: ReadonlyArray<readonly [number, number]>, xKind: ScaleKind, yKind: ScaleKind): Array<Array<readonly [number, number]>> {
  const runs: Array<Array<readonly [number, number]>> = [];
  let run: Array<readonly [number, number]> = [];
  for (const point of points) {
    const x = point[0];
    const y = point[1];
    if (typeof x === 'number' && typeof y === 'number' && scaleAccepts(xKind, x) && scaleAccepts(yKind, y)) {
      run.push([x, y]);
    } else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Draws a line chart and returns it as an SVG document string (it can be saved as a .svg file or inlined
 * into HTML). See the file header for the data rules.
 */
export function lineChart(options: LineChartOptions): string {
  const width = checkSize(options.width ?? 640, 'width');
  const requestedHeight = checkSize(options.height ?? 400, 'height');
  const title = checkText(options.title, 'chart title');
  const xLabel = checkText(options.xLabel, 'x axis label');
  const yLabel = checkText(options.yLabel, 'y axis label');
  const xKind = options.xScale ?? 'linear';
  const yKind = options.yScale ?? 'linear';
  if (!['linear', 'log', 'sparsity'].includes(xKind)) throw new ConfigError(`unknown x scale ${JSON.stringify(xKind)}`);
  if (!['linear', 'log'].includes(yKind)) throw new ConfigError(`unknown y scale ${JSON.stringify(yKind)}`);
  if (!Array.isArray(options.series as unknown)) throw new ConfigError('chart series must be an array');
  if (options.xDomain !== undefined) checkDomain(xKind, options.xDomain, 'x');
  if (options.yDomain !== undefined) checkDomain(yKind, options.yDomain, 'y');
  const referenceLines = checkReferenceLines(options.referenceLines, yKind);

  const series: PreparedSeries[] = options.series.map((s, i) => {
    const name = checkText(s.name, `series ${i} name`);
    if (!Array.isArray(s.points as unknown)) throw new ConfigError(`series "${name}": points must be an array of [x, y] pairs`);
    return {
      name,
      color: checkColor(s.color, PALETTE[i % PALETTE.length] ?? '#000000', `series "${name}"`),
      dashed: s.dashed === true,
      markers: s.markers !== false,
      shape: MARKER_SHAPES[i % MARKER_SHAPES.length] ?? 'circle',
      runs: drawableRuns(s.points, xKind, yKind),
    };
  });

  const allPoints = series.flatMap((s) => s.runs.flat());
  const summary = options.description ?? `Line chart with ${series.length} series (${series.map((s) => s.name).join(', ')}); x: ${xLabel}; y: ${yLabel}.`;
  if (allPoints.length === 0) return emptyChart(width, requestedHeight, title, 'line-chart', 'No data to plot');

  const xExtent = extentFor(xKind, allPoints.map((p) => p[0])) as Domain;
  const yExtent = extentFor(yKind, [...allPoints.map((p) => p[1]), ...referenceLines.map((line) => line.y)]) as Domain;
  const xDomain = options.xDomain ?? niceDomain(xKind, xExtent[0], xExtent[1]);
  const yDomain = options.yDomain ?? niceDomain(yKind, yExtent[0], yExtent[1]);

  // Measure what sits around the plot before placing it: tick labels, title lines, legend rows.
  // (Ticks and default labels depend on the domain only, so probe scales on a dummy pixel range suffice.)
  const xProbe = createScale(xKind, xDomain, [0, 1]);
  const yProbe = createScale(yKind, yDomain, [1, 0]);
  const xFormat = options.xTickFormat ?? xProbe.formatTick;
  const yFormat = options.yTickFormat ?? yProbe.formatTick;
  const yLabelWidth = Math.max(0, ...yProbe.ticks.map((t) => estimateTextWidth(yFormat(t), TICK_FONT)));
  const xProbeTicks = xProbe.ticks;
  const lastXLabelWidth = xProbeTicks.length > 0 ? estimateTextWidth(xFormat(xProbeTicks[xProbeTicks.length - 1] ?? 0), TICK_FONT) : 0;
  const firstXLabelWidth = xProbeTicks.length > 0 ? estimateTextWidth(xFormat(xProbeTicks[0] ?? 0), TICK_FONT) : 0;

  const titleLines = wrapText(title, width - 24, TITLE_FONT, 2, true);
  const top = titleHeight(titleLines);
  const left = Math.max(6 + AXIS_TITLE_FONT * 1.3 + 8 + yLabelWidth + TICK_LENGTH + 4, firstXLabelWidth / 2 + 8);
  const right = Math.max(20, lastXLabelWidth / 2 + 8);
  const legend = layoutLegend(
    series.map((s) => ({ name: s.runs.length === 0 ? `${s.name} (no data)` : s.name, color: s.color, dashed: s.dashed, marker: s.markers ? s.shape : undefined, swatch: 'line' as const })),
    12,
    width - 24,
  );
  const xAxisBlock = TICK_LENGTH + 4 + TICK_FONT + 12 + AXIS_TITLE_FONT + 10;
  const bottomMargin = xAxisBlock + legend.height + (legend.height > 0 ? 10 : 0);
  const plotHeight = Math.max(MIN_PLOT_HEIGHT, requestedHeight - top - bottomMargin);
  const height = top + plotHeight + bottomMargin;
  const box: PlotBox = { left, right: width - right, top, bottom: top + plotHeight };
  if (box.right - box.left < 60) throw new ConfigError(`chart width ${width} leaves no room for the plot; make it wider`);

  const xScale = createScale(xKind, xDomain, [box.left, box.right]);
  const yScale = createScale(yKind, yDomain, [box.bottom, box.top]);

  const parts = openChart(width, height, title, summary, titleLines, 'line-chart');
  // Clip to the plot (plus room for half a marker) so points outside an explicit domain are hidden. The id is
  // made from the rectangle itself: unique enough for several charts on one page, and two charts that share
  // an id share the same rectangle, so either definition is correct.
  const pad = MARKER_SIZE * 1.5;
  const clip = { x: box.left - pad, y: box.top - pad, w: box.right - box.left + 2 * pad, h: box.bottom - box.top + 2 * pad };
  const clipId = `sg-clip-${[clip.x, clip.y, clip.w, clip.h].map((v) => px(v).replace('.', '_')).join('-')}`;
  parts.push(`<defs><clipPath id="${clipId}"><rect x="${px(clip.x)}" y="${px(clip.y)}" width="${px(clip.w)}" height="${px(clip.h)}"/></clipPath></defs>`);

  parts.push(...renderYAxis(yScale, yFormat, box, yLabel));

  // X axis: vertical gridlines, ticks, labels (thinned so none overlap; a sparsity axis keeps its high end).
  const xTicks = thinAxisTicks(
    xKind,
    xScale.ticks.map((value) => {
      const label = xFormat(value);
      return { value, x: xScale.toPixel(value), label, halfWidth: estimateTextWidth(label, TICK_FONT) / 2 };
    }),
    (a, b) => a.x + a.halfWidth + 8 > b.x - b.halfWidth,
  );
  parts.push('<g class="x-axis">');
  for (const tick of xTicks) {
    parts.push(`<line x1="${px(tick.x)}" y1="${px(box.top)}" x2="${px(tick.x)}" y2="${px(box.bottom)}" stroke="${GRID_COLOR}" stroke-width="1"/>`);
    parts.push(`<line x1="${px(tick.x)}" y1="${px(box.bottom)}" x2="${px(tick.x)}" y2="${px(box.bottom + TICK_LENGTH)}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
    parts.push(textElement(tick.x, box.bottom + TICK_LENGTH + 4 + TICK_FONT * 0.8, tick.label, `text-anchor="middle" font-size="${TICK_FONT}" fill="${TEXT_COLOR}"`));
  }
  parts.push(`<line x1="${px(box.left)}" y1="${px(box.bottom)}" x2="${px(box.right)}" y2="${px(box.bottom)}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
  const xTitleY = box.bottom + TICK_LENGTH + 4 + TICK_FONT + 12 + AXIS_TITLE_FONT * 0.8;
  parts.push(textElement((box.left + box.right) / 2, xTitleY, truncateText(xLabel, box.right - box.left, AXIS_TITLE_FONT), `text-anchor="middle" font-size="${AXIS_TITLE_FONT}" fill="${TEXT_COLOR}"`));
  parts.push('</g>');

  parts.push(...renderReferenceLines(referenceLines, yScale, box));

  // Series, drawn in order so later series sit on top; markers after the lines so none hides under a line.
  parts.push(`<g class="series" clip-path="url(#${clipId})">`);
  series.forEach((s, index) => {
    parts.push(`<g class="series-${index}">`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    for (const run of s.runs) {
      if (run.length < 2) continue;
      const coordinates = run.map(([x, y]) => `${px(xScale.toPixel(x))},${px(yScale.toPixel(y))}`).join(' ');
      parts.push(`<polyline points="${coordinates}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    }
    for (const run of s.runs) {
      // A lone point has no line, so it always gets a marker, or it would vanish.
      if (!s.markers && run.length > 1) continue;
      for (const [x, y] of run) {
        const tooltip = `${s.name}: ${xLabel} = ${tooltipValue(xKind, x)}, ${yLabel} = ${tooltipValue(yKind, y)}`;
        parts.push(markerElement(s.shape, xScale.toPixel(x), yScale.toPixel(y), s.color, tooltip));
      }
    }
    parts.push('</g>');
  });
  parts.push('</g>');

  parts.push(...legend.render(box.bottom + xAxisBlock + 4));
  parts.push('</svg>');
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Bar chart.

/**
 * Draws a grouped bar chart (one group per category, one bar per series) as an SVG document string, e.g.
 * bytes per layer stored dense vs CSR. Bars start at 0 on a linear axis and at the axis minimum on a log
 * axis; a missing or unshowable value leaves an empty slot.
 */
export function barChart(options: BarChartOptions): string {
  const width = checkSize(options.width ?? 640, 'width');
  const requestedHeight = checkSize(options.height ?? 400, 'height');
  const title = checkText(options.title, 'chart title');
  const yLabel = checkText(options.yLabel, 'y axis label');
  const xLabel = options.xLabel === undefined ? '' : checkText(options.xLabel, 'x axis label');
  const yKind = options.yScale ?? 'linear';
  if (!['linear', 'log'].includes(yKind)) throw new ConfigError(`unknown y scale ${JSON.stringify(yKind)}`);
  if (!Array.isArray(options.categories as unknown) || !Array.isArray(options.series as unknown)) throw new ConfigError('bar chart categories and series must be arrays');
  const categories = options.categories.map((c, i) => checkText(c, `category ${i}`));
  if (options.yDomain !== undefined) checkDomain(yKind, options.yDomain, 'y');
  const referenceLines = checkReferenceLines(options.referenceLines, yKind);
  const series = options.series.map((s, i) => {
    const name = checkText(s.name, `series ${i} name`);
    if (!Array.isArray(s.values as unknown)) throw new ConfigError(`series "${name}": values must be an array`);
    if (s.values.length > categories.length) throw new ConfigError(`series "${name}" has ${s.values.length} values for ${categories.length} categories`);
    return { name, values: s.values, color: checkColor(s.color, PALETTE[i % PALETTE.length] ?? '#000000', `series "${name}"`) };
  });

  const shown = (value: number | null | undefined): value is number => typeof value === 'number' && scaleAccepts(yKind, value);
  const values = series.flatMap((s) => s.values.filter(shown));
  const summary = options.description ?? `Bar chart of ${series.map((s) => s.name).join(', ')} for ${categories.length} categories; y: ${yLabel}.`;
  if (values.length === 0 || categories.length === 0) return emptyChart(width, requestedHeight, title, 'bar-chart', 'No data to plot');

  // A linear bar axis always includes 0: bars are compared by length.
  const yExtent = extentFor(yKind, [...values, ...referenceLines.map((line) => line.y), ...(yKind === 'linear' ? [0] : [])]) as Domain;
  const yDomain = options.yDomain ?? niceDomain(yKind, yExtent[0], yExtent[1]);
  const yProbe = createScale(yKind, yDomain, [1, 0]);
  const yFormat = options.yTickFormat ?? yProbe.formatTick;
  const valueFormat = options.valueFormat ?? ((value: number) => (options.yTickFormat ? options.yTickFormat(value) : formatCompact(value, 6)));
  const yLabelWidth = Math.max(0, ...yProbe.ticks.map((t) => estimateTextWidth(yFormat(t), TICK_FONT)));

  const titleLines = wrapText(title, width - 24, TITLE_FONT, 2, true);
  const top = titleHeight(titleLines);
  const left = 6 + AXIS_TITLE_FONT * 1.3 + 8 + yLabelWidth + TICK_LENGTH + 4;
  const right = 16;
  const band = (width - right - left) / categories.length;
  // Category labels that do not fit under their group are turned 35° so they can run diagonally.
  const labels = categories.map((c) => truncateText(c, 160, TICK_FONT));
  const widest = Math.max(...labels.map((l) => estimateTextWidth(l, TICK_FONT)));
  const rotate = widest > band - 10;
  const labelBlock = rotate ? widest * Math.sin((35 * Math.PI) / 180) + TICK_FONT : TICK_FONT;
  const legend = layoutLegend(
    series.length > 1 ? series.map((s) => ({ name: s.name, color: s.color, dashed: false, marker: undefined, swatch: 'box' as const })) : [],
    12,
    width - 24,
  );
  const xAxisBlock = TICK_LENGTH + 4 + labelBlock + (xLabel === '' ? 4 : 12 + AXIS_TITLE_FONT + 6);
  const bottomMargin = xAxisBlock + legend.height + (legend.height > 0 ? 10 : 4);
  const plotHeight = Math.max(MIN_PLOT_HEIGHT, requestedHeight - top - bottomMargin);
  const height = top + plotHeight + bottomMargin;
  const box: PlotBox = { left, right: width - right, top, bottom: top + plotHeight };
  if (band < 8) throw new ConfigError(`bar chart width ${width} is too narrow for ${categories.length} categories`);

  const yScale = createScale(yKind, yDomain, [box.bottom, box.top]);
  const parts = openChart(width, height, title, summary, titleLines, 'bar-chart');
  parts.push(...renderYAxis(yScale, yFormat, box, yLabel));

  parts.push('<g class="x-axis">');
  parts.push(`<line x1="${px(box.left)}" y1="${px(box.bottom)}" x2="${px(box.right)}" y2="${px(box.bottom)}" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
  labels.forEach((label, i) => {
    const x = box.left + band * (i + 0.5);
    const y = box.bottom + TICK_LENGTH + 4 + TICK_FONT * 0.8;
    const placement = rotate ? `transform="rotate(-35 ${px(x)} ${px(y)})" text-anchor="end"` : 'text-anchor="middle"';
    parts.push(`<g><title>${escapeXml(categories[i] ?? '')}</title>`);
    parts.push(textElement(x, y, label, `${placement} font-size="${TICK_FONT}" fill="${TEXT_COLOR}"`));
    parts.push('</g>');
  });
  if (xLabel !== '') {
    parts.push(textElement((box.left + box.right) / 2, box.bottom + TICK_LENGTH + 4 + labelBlock + 12 + AXIS_TITLE_FONT * 0.8, truncateText(xLabel, box.right - box.left, AXIS_TITLE_FONT), `text-anchor="middle" font-size="${AXIS_TITLE_FONT}" fill="${TEXT_COLOR}"`));
  }
  parts.push('</g>');

  // Bars: the group fills 80 % of its band, split evenly between series.
  const baseline = yKind === 'linear' ? yScale.toPixel(Math.min(Math.max(0, yDomain[0]), yDomain[1])) : box.bottom;
  const barWidth = (band * 0.8) / Math.max(1, series.length);
  parts.push('<g class="bars">');
  series.forEach((s, seriesIndex) => {
    parts.push(`<g class="series-${seriesIndex}">`);
    s.values.forEach((value, categoryIndex) => {
      if (!shown(value)) return;
      const x = box.left + band * categoryIndex + band * 0.1 + barWidth * seriesIndex;
      const clamped = Math.min(Math.max(yScale.toPixel(value), box.top), box.bottom);
      const y = Math.min(clamped, baseline);
      const h = Math.abs(baseline - clamped);
      const tooltip = `${s.name}, ${categories[categoryIndex] ?? ''}: ${valueFormat(value)}`;
      parts.push(`<rect x="${px(x)}" y="${px(y)}" width="${px(Math.max(1, barWidth - 1))}" height="${px(h)}" fill="${s.color}"><title>${escapeXml(tooltip)}</title></rect>`);
    });
    parts.push('</g>');
  });
  parts.push('</g>');
  parts.push(...renderReferenceLines(referenceLines, yScale, box));
  parts.push(...legend.render(box.bottom + xAxisBlock + 4));
  parts.push('</svg>');
  return parts.join('\n');
}
