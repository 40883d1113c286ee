export { findTargets, checkSparsity, targetsSparsity, zeroFraction, type PruneTarget, type TargetOptions } from './targets.ts';
export {
  CRITERIA, BUILTIN_CRITERIA, registerCriterion, criteria, criterionByName, parseCriterion, needsGradients, importanceScores,
  type Criterion, type CriterionName, type BuiltinCriterionName, type ScoreFn, type ScoreInputs,
} from './criteria.ts';
export { GradientStats, collectGradientStats, gradientStatsHook, type AccumulateOptions, type GradientPassOptions, type GradientStatKind } from './gradient-stats.ts';
export { parseGranularity, formatGranularity, nmSparsity, type Granularity } from './granularity.ts';
export { computeMasks, applyMaskPlan, checkSelectionSettings, parseScope, SCOPES, type Scope, type SelectOptions, type MaskPlan } from './select.ts';
export { maskByThreshold, maskTopK, maskWithHysteresis, exchangeWeights } from './select-weights.ts';
export { RegrowingMasks } from './regrow.ts';
export { StraightThroughScores } from './straight-through-scores.ts';
export { pruneTargets, type PruneStepOptions } from './prune-step.ts';
export { gradualSchedule, iterativeSparsities, type PruningSchedule, type GradualOptions } from './schedule.ts';
export {
  definePruningMethod, type PruningMethod, type PruningContext, type RandomStreams, type ScoreOptions, type SelectStepOptions, type TrainPhaseOptions,
  type MethodOptions, type OptionValue,
} from './method.ts';
export { resolveOptions, describeOption, optionFlag, type OptionSpec, type OptionSpecs, type NumberOptionSpec, type BooleanOptionSpec, type ChoiceOptionSpec } from './options.ts';
export { registerPruningMethod, pruningMethods, pruningMethod, parseMethod } from './registry.ts';
export { calibrateStdMultiple } from './methods/threshold.ts';
export { proximalL1Thresholds } from './methods/l1.ts';
export { calibrateCRate, dnsSurgery } from './methods/dns.ts';
export { riglUpdateInterval } from './methods/rigl.ts';
export { keptPerLayer, LAYER_DISTRIBUTIONS, type LayerDistribution, type LayerShape } from './layer-densities.ts';
export { shrinkNeurons, shrinkModel, type ShrinkLayer, type ShrinkReport } from './shrink.ts';
export { LR_SCHEDULES, type LrScheduleName, type MethodName, type BuiltinMethodName, type PruneConfig } from './config.ts';
export { checkPruneConfig, runPruning, forkRandomStreams, type PruneResult, type PruneCallbacks } from './run.ts';
export { sparsityReport, type SparsityReport, type LayerSparsity } from './report.ts';
export { kthSmallest } from './quickselect.ts';
