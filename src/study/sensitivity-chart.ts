import { lineChart, type ReferenceLine } from '../report/svg-chart.ts';
import type { SensitivityRow } from './sensitivity.ts';

/**
 * Validation accuracy vs sparsity for a sensitivity analysis (Han et al. 2015, figure 5): one line per layer,
 * each layer pruned alone; the unpruned model's validation accuracy (`baseline`, a fraction) as a reference
 * line labelled `options.baselineName` (default 'dense') and, when `options.tolerance` is given, the floor
 * `baseline − tolerance` the suggested sparsities keep to. Returns the SVG document as a string.
 */
export function sensitivityChart(rows: readonly SensitivityRow[], baseline: number, title: string, options: { tolerance?: number; baselineName?: string } = {}): string {
  const { tolerance, baselineName = 'dense' } = options;
  const series = new Map<string, [number, number][]>();
  for (const row of rows) {
    if (!series.has(row.layer)) series.set(row.layer, []);
    series.get(row.layer)!.push([row.sparsity, row.accuracy * 100]);
  }
  const label = `${baselineName} ${(baseline * 100).toFixed(2)}%`;
  const drop = tolerance === undefined ? 0 : Number((tolerance * 100).toFixed(2));
  // The two lines are a point or so apart: one label for both, so they do not overlap.
  const referenceLines: ReferenceLine[] = drop > 0
    ? [{ y: baseline * 100, label: `${label}; the line below: −${drop} point${drop === 1 ? '' : 's'}` }, { y: (baseline - tolerance!) * 100 }]
    : [{ y: baseline * 100, label }];
  return lineChart({
    title,
    xLabel: 'sparsity of the one pruned layer (fraction of its weights removed)',
    yLabel: 'validation accuracy (%)',
    xScale: 'sparsity',
    series: [...series].map(([name, points]) => ({ name: name.replace(/\.weight$/, ''), points: points.sort((a, b) => a[0] - b[0]) })),
    referenceLines,
  });
}
