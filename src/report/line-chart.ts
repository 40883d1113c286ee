/**
 * The line chart (accuracy vs sparsity per criterion, speedup vs sparsity next to the ideal 1/(1−s)).
 * Part of the SVG charts; see svg-chart.ts for what a chart contains and the data rules.
 */
import { ConfigError } from '../errors.ts';
import { checkDomain, createScale, extentFor, niceDomain, scaleAccepts, type Domain, type ScaleKind } from './scale.ts';
import { MARKER_SHAPES, markerElement, type MarkerShape } from './chart-markers.ts';
import { checkReferenceLines, emptyChart, layoutLegend, openChart, renderReferenceLines, renderYAxis, thinAxisTicks, titleHeight, tooltipValue, type PlotBox } from './chart-frame.ts';
import {
  AXIS_COLOR,
  AXIS_TITLE_FONT,
  checkColor,
  checkSize,
  checkText,
  estimateTextWidth,
  GRID_COLOR,
  MARKER_SIZE,
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
import type { LineChartOptions } from './svg-chart.ts';

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
