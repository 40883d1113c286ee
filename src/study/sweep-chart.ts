import { lineChart } from '../report/svg-chart.ts';
import type { SweepResult } from './sweep.ts';

/**
 * Validation accuracy vs sparsity for every setting of a sweep: one line per (epochs, learning rate) over
 * the swept values, the dense model's validation accuracy as a reference line, and the chosen setting as
 * its own marked point.
 */
export function sweepChart(sweep: SweepResult, title: string): string {
  const series = new Map<string, [number, number][]>();
  for (const row of sweep.rows) {
    const name = `${row.epochs} epoch${row.epochs === 1 ? '' : 's'}, lr ${row.lr}`;
    if (!series.has(name)) series.set(name, []);
    series.get(name)!.push([row.sparsity, row.accuracy * 100]);
  }
  const lines = [...series].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) }));
  const chosen = sweep.chosen;
  if (chosen !== null) {
    lines.push({ name: `chosen: ${sweep.swept} ${chosen.value}, ${chosen.epochs} epochs, lr ${chosen.lr}`, points: [[chosen.sparsity, chosen.accuracy * 100]] });
  }
  const folds = sweep.validation.folds;
  return lineChart({
    title,
    xLabel: 'sparsity (fraction of weights removed)',
    yLabel: `validation accuracy (%${folds > 1 ? `, mean of ${folds} folds` : ''})`,
    xScale: 'sparsity',
    series: lines,
    referenceLines: [{ y: sweep.baseline * 100, label: `dense ${(sweep.baseline * 100).toFixed(2)}%` }],
  });
}
