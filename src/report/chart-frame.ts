/**
 * The pieces every chart frame is made of: the opening (root element, accessible title and description,
 * title lines), the legend below the plot, tick thinning, the y axis with its gridlines, horizontal reference
 * lines, tooltips' number format, and the "No data to plot" frame. Part of the SVG charts (svg-chart.ts).
 */
import { ConfigError } from '../errors.ts';
import { escapeXml } from './escape.ts';
import { formatCompact } from './format.ts';
import { formatSparsity, scaleAccepts, type Scale, type ScaleKind } from './scale.ts';
import { markerElement, type MarkerShape } from './chart-markers.ts';
import {
  AXIS_COLOR,
  AXIS_TITLE_FONT,
  estimateTextWidth,
  FONT_FAMILY,
  GRID_COLOR,
  LEGEND_FONT,
  LEGEND_ROW,
  px,
  REFERENCE_COLOR,
  checkText,
  TEXT_COLOR,
  textElement,
  TICK_FONT,
  TICK_LENGTH,
  TITLE_FONT,
  truncateText,
  wrapText,
} from './chart-style.ts';
import type { ReferenceLine } from './svg-chart.ts';

export interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly marker: MarkerShape | undefined;
  readonly swatch: 'line' | 'box';
}

export interface LegendLayout {
  readonly height: number;
  render(top: number): string[];
}

/** Lays legend entries out in rows that wrap at `maxWidth`, centred horizontally. */
export function layoutLegend(entries: readonly LegendEntry[], left: number, maxWidth: number): LegendLayout {
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
export function thinTicks<T>(ticks: readonly T[], overlaps: (a: T, b: T) => boolean, anchorLast: boolean): T[] {
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
export function thinAxisTicks<T extends { readonly value: number }>(kind: ScaleKind, ticks: readonly T[], overlaps: (a: T, b: T) => boolean): T[] {
  const thinned = thinTicks(ticks, overlaps, kind === 'sparsity');
  if (kind !== 'log' || thinned.length === ticks.length) return thinned;
  const powers = ticks.filter((tick) => Math.abs(Math.log10(tick.value) - Math.round(Math.log10(tick.value))) < 1e-9);
  return powers.length >= 2 ? thinTicks(powers, overlaps, false) : thinned;
}

export interface PlotBox {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Horizontal gridlines, y tick marks and labels, and the rotated y axis title. */
export function renderYAxis(scale: Scale, format: (value: number) => string, box: PlotBox, yLabel: string): string[] {
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
export function renderReferenceLines(lines: readonly ReferenceLine[], scale: Scale, box: PlotBox): string[] {
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
export function openChart(width: number, height: number, title: string, description: string, titleLines: readonly string[], kind: string): string[] {
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

export function titleHeight(lines: readonly string[]): number {
  return 12 + TITLE_FONT + (lines.length - 1) * TITLE_FONT * 1.25 + 14;
}

/** A chart frame with the title and a "No data to plot" message, for inputs with nothing drawable. */
export function emptyChart(width: number, height: number, title: string, kind: string, reason: string): string {
  const titleLines = wrapText(title, width - 24, TITLE_FONT, 2, true);
  const top = titleHeight(titleLines);
  const parts = openChart(width, height, title, `${title}: ${reason}`, titleLines, kind);
  parts.push(`<rect x="12" y="${px(top)}" width="${px(width - 24)}" height="${px(Math.max(20, height - top - 12))}" fill="none" stroke="${GRID_COLOR}" stroke-width="1"/>`);
  parts.push(textElement(width / 2, (top + height - 12) / 2, reason, `text-anchor="middle" dominant-baseline="central" font-size="${AXIS_TITLE_FONT}" fill="${AXIS_COLOR}"`));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Checks reference lines (each must be showable on the y axis) and returns them, [] when absent. */
export function checkReferenceLines(lines: readonly ReferenceLine[] | undefined, yKind: ScaleKind): readonly ReferenceLine[] {
  const checked = lines ?? [];
  for (const line of checked) {
    if (!scaleAccepts(yKind, line.y)) throw new ConfigError(`reference line y = ${line.y} cannot be shown on a ${yKind} y axis`);
    if (line.label !== undefined) checkText(line.label, 'reference line label');
  }
  return checked;
}

/** Formats an exact value for a tooltip: more digits than a tick label, percent on a sparsity axis. */
export function tooltipValue(kind: ScaleKind, value: number): string {
  return kind === 'sparsity' ? formatSparsity(value) : formatCompact(value, 6);
}
