/**
 * The Deep Compression picture: accuracy against file size (bytes, log scale), one series per stage —
 * pruned (float32), pruned + quantized, + entropy coding — with the dense model as a reference line, so
 * each stage's shift to the left at (nearly) the same height is what a reader sees. A series' line joins its
 * Pareto front (the most accurate model at each size or smaller); the models it dominates are single markers,
 * so points from several methods and sparsities do not zigzag.
 */
import { lineChart } from './line-chart.ts';

/** One model at one stage: its file size and its accuracy (a fraction). */
export interface CompressionPoint {
  readonly bytes: number;
  readonly accuracy: number;
}

/** What compressionChart draws. */
export interface CompressionChartOptions {
  readonly title: string;
  /** Series name → points (sorted by size here); e.g. 'pruned', 'pruned + kmeans 5-bit', '+ Huffman'. */
  readonly series: ReadonlyMap<string, readonly CompressionPoint[]>;
  /** The dense float32 model: a reference line at its accuracy, labelled with its size. */
  readonly dense?: CompressionPoint;
  /** The y axis label (default 'test accuracy (%)'). */
  readonly yLabel?: string;
  readonly description?: string;
}

/** An SVG line chart of accuracy (%) against file bytes on a log axis; see the file comment. */
export function compressionChart(options: CompressionChartOptions): string {
  const series = [...options.series].map(([name, points]) => ({ name, points: frontierThenOthers(points), markers: true }));
  return lineChart({
    title: options.title,
    xLabel: 'file size (bytes, log scale)',
    yLabel: options.yLabel ?? 'test accuracy (%)',
    xScale: 'log',
    xTickFormat: (bytes) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} B`),
    series,
    ...(options.dense === undefined ? {} : { referenceLines: [{ y: 100 * options.dense.accuracy, label: `dense float32 (${Math.round(options.dense.bytes / 1024)} KiB)` }] }),
    ...(options.description === undefined ? {} : { description: options.description }),
  });
}

/**
 * [bytes, accuracy %] pairs: the Pareto front by increasing size (each point more accurate than every smaller
 * one), then every other point behind a NaN pair, which breaks the line so it shows as a lone marker.
 */
function frontierThenOthers(points: readonly CompressionPoint[]): [number, number][] {
  const sorted = [...points].sort((a, b) => a.bytes - b.bytes || b.accuracy - a.accuracy);
  const front: [number, number][] = [];
  const others: [number, number][] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.accuracy > best) {
      best = p.accuracy;
      front.push([p.bytes, 100 * p.accuracy]);
    } else others.push([NaN, NaN], [p.bytes, 100 * p.accuracy]);
  }
  return [...front, ...others];
}
