export { runComparison, type Comparison, type ComparisonRow, type ComparisonOptions } from './compare.ts';
export { comparisonChart } from './compare-chart.ts';
export { sweepPruning, pickSparsest, type SweepOptions, type SweepResult, type SweepRow, type SweepObjective, type SweepGrid } from './sweep.ts';
export { sweepChart } from './sweep-chart.ts';
export { sensitivityAnalysis, suggestLayerSparsities, type SensitivityRow, type SensitivityOptions, type LayerSparsitySuggestion } from './sensitivity.ts';
export { sensitivityChart } from './sensitivity-chart.ts';
export { holdoutValidation, directoryValidation, crossValidation, type ValidationPlan, type ValidationSource, type ValidationFold } from './validation.ts';
export { readHoldoutRecord, readTrainingRecipe, rebuildHoldout, trainWithRecipe, type HoldoutRecord, type TrainingRecipe, type RecipeTrainingOptions } from './recipe.ts';
export type { TrialResult, TrialQuantization, Score } from './tasks.ts';
