import { lineChart } from '../report/svg-chart.ts';
import type { Comparison } from './compare.ts';

/** Accuracy vs sparsity, one line per method/criterion, the dense model as a reference line. */
export function comparisonChart(comparison: Comparison, title: string): string {
  const series = new Map<string, [number, number][]>();
  for (const row of comparison.rows) {
    const name = row.criterion === '-' ? row.method : `${row.method} / ${row.criterion}`;
    if (!series.has(name)) series.set(name, []);
    series.get(name)!.push([row.sparsity, row.testAccuracy * 100]);
  }
  return lineChart({
    title,
    xLabel: 'sparsity (fraction of weights removed)',
    yLabel: 'test accuracy (%)',
    xScale: 'sparsity',
    series: [...series].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) })),
    referenceLines: [{ y: comparison.dense.testAccuracy * 100, label: `dense ${(comparison.dense.testAccuracy * 100).toFixed(2)}%` }],
  });
}
