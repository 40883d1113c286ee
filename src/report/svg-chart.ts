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
 *
 * The code: chart-style.ts (look, text), chart-markers.ts, chart-frame.ts (legend, axes, reference lines),
 * line-chart.ts and bar-chart.ts; this file holds the public option types.
 */
import type { Domain, ScaleKind } from './scale.ts';

export { lineChart } from './line-chart.ts';
export { barChart } from './bar-chart.ts';
export { estimateTextWidth, PALETTE } from './chart-style.ts';

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
export interface ChartFrameOptions {
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

/** What `lineChart` draws: the series, the x axis, and the frame shared with bar charts. */
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

/** What `barChart` draws: categories × series of bars, and the frame shared with line charts. */
export interface BarChartOptions extends ChartFrameOptions {
  /** One group of bars per category, labelled under the x axis (e.g. layer names). */
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly xLabel?: string;
  /** Formats the value in each bar's tooltip; defaults to the y tick format. */
  readonly valueFormat?: (value: number) => string;
}
