/**
 * The grouped bar chart (e.g. bytes per layer stored dense vs CSR). Part of the SVG charts; see svg-chart.ts
 * for what a chart contains and the data rules.
 */
import { ConfigError } from '../errors.ts';
import { escapeXml } from './escape.ts';
import { formatCompact } from './format.ts';
import { checkDomain, createScale, extentFor, niceDomain, scaleAccepts, type Domain } from './scale.ts';
import { checkReferenceLines, emptyChart, layoutLegend, openChart, renderReferenceLines, renderYAxis, titleHeight, type PlotBox } from './chart-frame.ts';
import {
  AXIS_COLOR,
  AXIS_TITLE_FONT,
  checkColor,
  checkSize,
  checkText,
  estimateTextWidth,
  MIN_PLOT_HEIGHT,
  PALETTE,
  px,
  TEXT_COLOR,
  textElement,
  TICK_FONT,
  TICK_LENGTH,
  TITLE_FONT,
  truncateText,
  wrapText,
} from './chart-style.ts';
import type { BarChartOptions } from './svg-chart.ts';

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
