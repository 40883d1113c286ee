export { runComparison, type Comparison, type ComparisonRow, type ComparisonOptions } from './compare.ts';
export { comparisonChart } from './compare-chart.ts';
export { sweepPruning, pickSparsest, type SweepOptions, type SweepResult, type SweepRow } from './sweep.ts';
export { sensitivityAnalysis, type SensitivityRow } from './sensitivity.ts';
