/**
 * A sample report with made-up but plausible pruning results: accuracy vs sparsity per criterion,
 * latency speedup vs sparsity next to the ideal 1/(1 − s), and bytes per layer dense vs CSR.
 * Used by the report tests and by `scripts/check-report.ts --demo` to eyeball the rendered page.
 * The numbers are synthetic (fixed formulas, no randomness), so the page is identical on every run.
 */
import { barChart, lineChart } from '../../src/report/svg-chart.ts';
import { renderReport, type Report } from '../../src/report/html.ts';
import { formatPercent } from '../../src/report/format.ts';

export const SAMPLE_SPARSITIES = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99] as const;

/** Accuracy that holds up until the remaining density gets small; `robustness` shifts where it drops. */
function syntheticAccuracy(sparsity: number, robustness: number): number {
  const density = 1 - sparsity;
  return 0.1 + 0.875 / (1 + (robustness / density) ** 2.2);
}

/** Speedup of a CSR kernel: ideal 1/(1 − s) slowed by index overhead and a fixed cost per row. */
function syntheticSpeedup(sparsity: number): number {
  const density = 1 - sparsity;
  return 1 / (density * 2.4 + 0.012);
}

/** The number of series/charts in the sample, so tests can check what rendered. */
export const SAMPLE_CHART_COUNT = 3;

export function sampleReport(): Report {
  const criteria = [
    { name: 'magnitude (global)', robustness: 0.018 },
    { name: 'magnitude (per layer)', robustness: 0.03 },
    { name: 'gradient × weight', robustness: 0.024 },
    { name: 'random', robustness: 0.16 },
  ];
  const accuracyChart = lineChart({
    title: 'Test accuracy vs sparsity, by pruning criterion',
    xLabel: 'sparsity (fraction of weights removed)',
    yLabel: 'test accuracy',
    xScale: 'sparsity',
    yDomain: [0, 1],
    yTickFormat: (v) => formatPercent(v, 0),
    series: criteria.map((c) => ({ name: c.name, points: SAMPLE_SPARSITIES.map((s) => [s, syntheticAccuracy(s, c.robustness)] as const) })),
  });
  const speedupChart = lineChart({
    title: 'Sparse matmul speedup over dense (784×256 layer, batch 1)',
    xLabel: 'sparsity',
    yLabel: 'speedup (dense time / sparse time)',
    xScale: 'sparsity',
    yScale: 'log',
    referenceLines: [{ y: 1, label: 'as fast as dense' }],
    series: [
      { name: 'CSR kernel (measured)', points: SAMPLE_SPARSITIES.map((s) => [s, syntheticSpeedup(s)] as const) },
      { name: 'ideal 1/(1 − s)', points: SAMPLE_SPARSITIES.map((s) => [s, 1 / (1 - s)] as const), dashed: true, markers: false, color: '#666666' },
    ],
  });
  const layers = ['fc1 784×256', 'fc2 256×128', 'fc3 128×10'];
  const denseBytes = [784 * 256 * 4, 256 * 128 * 4, 128 * 10 * 4];
  const csrBytes = denseBytes.map((bytes, i) => Math.round(bytes * 0.1 * 2 + ([257, 129, 11][i] ?? 0) * 4));
  const bytesChart = barChart({
    title: 'Weight storage per layer at 90% sparsity',
    categories: layers,
    yLabel: 'bytes',
    yScale: 'log',
    yDomain: [100, 1e6], // a log bar starts at the axis minimum, so pin it well below the smallest value
    series: [
      { name: 'dense float32', values: denseBytes },
      { name: 'CSR (values + indices)', values: csrBytes },
    ],
  });

  return {
    title: 'sparsegrad demo: pruning a 3-layer MLP on digits',
    meta: {
      date: '2026-11-27T18:00:00Z',
      seed: 42,
      nodeVersion: 'v20.20.2',
      cpu: 'Example CPU @ 2.00GHz (2 cores)',
      platform: 'linux x64',
      command: 'sparsegrad demo --seed 42 --report demo.html',
    },
    summary:
      'An MLP trained on the built-in digits set, then pruned to each sparsity with each criterion and fine-tuned.\n\n' +
      'Sparsity is spaced by −log10(1 − s) on the x axes, so 90 %, 99 % and 99.9 % are equally far apart.',
    sections: [
      {
        title: 'Accuracy vs sparsity',
        blocks: [
          { kind: 'chart', svg: accuracyChart, caption: 'Higher is better. Random pruning is the baseline every criterion should beat.' },
          {
            kind: 'table',
            caption: 'Test accuracy',
            columns: ['criterion', ...SAMPLE_SPARSITIES.slice(3).map((s) => ({ label: `s = ${formatPercent(s, 0)}`, format: 'percent' as const }))],
            rows: criteria.map((c) => [c.name, ...SAMPLE_SPARSITIES.slice(3).map((s) => syntheticAccuracy(s, c.robustness))]),
          },
        ],
      },
      {
        title: 'Speed',
        blocks: [
          { kind: 'chart', svg: speedupChart, caption: 'Above the dotted line the sparse kernel wins; the dashed curve is the ideal.' },
          { kind: 'text', tone: 'warning', text: 'Timings come from a shared 2-core machine; treat differences under 10 % as noise.' },
          {
            kind: 'table',
            columns: [
              { label: 'sparsity', format: 'percent' },
              { label: 'dense', format: { decimals: 3, suffix: ' ms' } },
              { label: 'sparse', format: { decimals: 3, suffix: ' ms' } },
              { label: 'speedup', format: 'speedup', description: 'dense time / sparse time' },
              { label: 'ideal', format: 'speedup', description: '1 / (1 − sparsity)' },
            ],
            rows: SAMPLE_SPARSITIES.map((s) => [s, 0.4, 0.4 / syntheticSpeedup(s), syntheticSpeedup(s), { value: 1 / (1 - s), emphasis: s >= 0.99 }]),
          },
        ],
      },
      {
        title: 'Model size',
        blocks: [
          { kind: 'chart', svg: bytesChart },
          { kind: 'keyValue', entries: [['layers', layers.join(', ')], ['dense total', `${denseBytes.reduce((a, b) => a + b, 0)} B`], ['CSR total', `${csrBytes.reduce((a, b) => a + b, 0)} B`]] },
          { kind: 'code', caption: 'Reproduce with', text: 'npx sparsegrad demo --seed 42 --report demo.html' },
        ],
      },
    ],
    data: {
      sparsities: SAMPLE_SPARSITIES,
      accuracy: Object.fromEntries(criteria.map((c) => [c.name, SAMPLE_SPARSITIES.map((s) => syntheticAccuracy(s, c.robustness))])),
      speedup: SAMPLE_SPARSITIES.map(syntheticSpeedup),
    },
    footer: 'Generated by sparsegrad (sample data).',
  };
}

export function renderSampleReport(): string {
  return renderReport(sampleReport());
}
