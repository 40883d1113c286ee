/**
 * sparsegrad — train, prune and run sparse neural networks on a CPU, in pure TypeScript.
 *
 * This is the main entry: everything a user needs, browser-safe (no Node APIs). Files, data sets on disk and
 * the CLI are in `sparsegrad/node`; kernel-level building blocks (GEMM, sparse kernels, the cost model) in
 * `sparsegrad/kernels`. The list below is deliberate: docs/api-report.md lists every name with its kind, and
 * test/api-report.test.ts fails when this surface changes without the report being regenerated. Anything
 * not exported here is internal.
 */
export * from './errors.ts';

// tensor: n-dimensional float32/float64 arrays, the seeded RNG, tensor ops without autograd, the backend switch
export { Tensor, tensor, zeros, ones, full, scalar, randn, randu, type DType, type FloatArray, type NestedArray } from './tensor/tensor.ts';
export { Rng } from './tensor/rng.ts';
export type { Shape } from './tensor/shape.ts';
export type { Conv2dOptions } from './tensor/conv.ts';
export type { Pool2dOptions } from './tensor/pool.ts';
/** Tensor ops without autograd (`ops.matmul(a, b, { transB: true })`, `ops.softmax(x)`, ...): Tensor in, Tensor out. */
export * as ops from './tensor/public-ops.ts';
export { BACKENDS, DEFAULT_BACKEND, currentBackend, resolveBackend, withBackend, type Backend } from './tensor/backend.ts';
export { withThreads, currentThreads, resolveThreads, setThreadHost, closeThreads, MAX_THREADS } from './tensor/threads.ts';
export type { PoolOptions } from './wasm/thread-pool.ts';
export type { ThreadHost, ThreadWorker } from './wasm/thread-host.ts';

// autograd: reverse-mode differentiation, differentiable ops, gradient checks, and `record` for defining new ops
export {
  Var, constant, variable, backward, noGrad, isGradEnabled, record, gradcheck, assertGradcheck,
  add, sub, mul, div, neg, exp, log, relu, sigmoid, tanh, matmul, linear, sum, mean, max, softmax, logSoftmax, reshape,
  conv2d, maxPool2d, avgPool2d, flatten,
  crossEntropy, softCrossEntropy, mse,
  type BackwardFn, type BackwardOptions, type GradcheckOptions, type GradcheckResult, type Labels,
} from './autograd/index.ts';

// nn: modules, optimizers, learning-rate schedules, the training loop, distillation
export {
  Parameter, Module, Layer, Linear, ReLU, Sigmoid, Tanh, Dropout, Sequential, buildModel, mlp, mlpSpec, parseArchitecture, cloneModel,
  Conv2d, MaxPool2d, AvgPool2d, Flatten, Reshape, architectureSpec, ARCHITECTURE_PRESETS, ARCHITECTURE_GRAMMAR, specShapes, layerFlops, formatLayer,
  type Conv2dSpec, type Pool2dSpec, type Conv2dLayerOptions, type Pool2dLayerOptions, type SpecShapes,
  Optimizer, SGD, Adam, AdamW, constantLR, stepLR, cosineLR, fit, evaluate, predict, predictClasses, distillationLoss,
  type LayerSpec, type ModelSpec, type InitScheme, type LinearOptions, type SGDOptions, type AdamOptions, type LRSchedule,
  type FitOptions, type LossFn, type TrainingHistory, type EpochStats, type StepContext, type TrainingHooks, type ProgressEvent,
  type Evaluation, type HoldoutInfo, type DistillationOptions,
} from './nn/index.ts';

// data: the Dataset contract, IDX parsing, validation splits
export { validateDataset, subset, type Dataset, type DataSplit } from './data/dataset.ts';
export { parseIdx, idxToDataset, encodeIdx, type IdxArray, type IdxDatasetOptions } from './data/idx.ts';
export { splitValidation, type ValidationSplit, type IndexedSplit } from './data/split.ts';

// prune: targets, criteria (a registry), granularity, scope and masks, schedules, methods (a registry), reports
export {
  findTargets, targetsSparsity, zeroFraction, type PruneTarget, type TargetOptions,
  CRITERIA, BUILTIN_CRITERIA, registerCriterion, criteria, criterionByName, parseCriterion, needsGradients, importanceScores,
  type Criterion, type CriterionName, type BuiltinCriterionName, type ScoreFn, type ScoreInputs,
  GradientStats, collectGradientStats, gradientStatsHook, type AccumulateOptions, type GradientPassOptions, type GradientStatKind,
  parseGranularity, formatGranularity, nmSparsity, type Granularity,
  computeMasks, applyMaskPlan, parseScope, SCOPES, type Scope, type SelectOptions, type MaskPlan,
  maskByThreshold, maskTopK, maskWithHysteresis, exchangeWeights, RegrowingMasks,
  pruneTargets, type PruneStepOptions,
  gradualSchedule, iterativeSparsities, type PruningSchedule, type GradualOptions,
  definePruningMethod, registerPruningMethod, pruningMethods, pruningMethod, parseMethod,
  type PruningMethod, type PruningContext, type RandomStreams, type ScoreOptions, type SelectStepOptions, type TrainPhaseOptions, type MethodOptions,
  type OptionValue, type OptionSpec, type OptionSpecs, type NumberOptionSpec, type BooleanOptionSpec, type ChoiceOptionSpec,
  calibrateStdMultiple, shrinkNeurons, shrinkModel, type ShrinkLayer, type ShrinkReport,
  LR_SCHEDULES, type LrScheduleName, type MethodName, type BuiltinMethodName, type PruneConfig,
  runPruning, checkPruneConfig, type PruneResult, type PruneCallbacks,
  sparsityReport, type SparsityReport, type LayerSparsity,
} from './prune/index.ts';

// study: comparison grids, validation sweeps, sensitivity analysis and their charts
export * from './study/index.ts';

// sparse matrices, and compiled inference: the dispatcher, its models, and the contract + registry of backends
export {
  CSRMatrix, validateCsr, csrFromDense, csrToDense, csrTranspose, BSRMatrix, bsrFromDense, bsrToDense, type CsrFromDenseOptions,
  compileInference, STRATEGIES, SparseModel, WasmSparseModel, wasmSimdSupported,
  type CompileOptions, type InferenceLayer, type CsrInferenceLayer, type InferenceModel, type InferenceStrategy, type LayerReport,
  registerInferenceBackend, inferenceBackends, BACKEND_NAMES, CompiledNetwork,
  type InferenceBackend, type BackendCompileOptions, type BackendName, type CheckedLayer, type Plan, type PlanStep, type LayerFacts,
  type CostModel, type BatchPart, type KernelName,
  type ConvInferenceLayer, type ConvPool, type AnyInferenceLayer, ConvNetworkModel, type ConvStage, type CheckedConv,
} from './sparse/index.ts';

// compile: a trained nn model → a fast inference-only one
export { compileModel, inferenceLayers } from './compile/index.ts';

// io: model files (safetensors) and ONNX export, as bytes (files on disk: sparsegrad/node)
export {
  serializeModel, deserializeModel, readModelHeader,
  type ModelRecord, type ParamRecord, type CsrRecord, type ModelHeader, type ParamSummary, type ParamEncoding, type ModelLimits, type SerializeOptions,
} from './io/model-file.ts';
export { modelToRecord, modelFromRecord, type ToRecordOptions } from './io/model-adapter.ts';
export {
  encodeSafetensors, decodeSafetensors,
  type DecodedSafetensors, type SafetensorsTensor, type SafetensorsLimits, type SafetensorsHeader, type SafetensorsTensorInfo,
} from './io/safetensors.ts';
export { exportOnnx, type OnnxExportOptions } from './io/onnx/export.ts';
export { int8WeightsOfRecord, type OnnxInt8Weight } from './io/onnx/int8-weights.ts';
export { importModel, detectImportFormat, IMPORT_FORMATS, type ImportOptions, type ImportFormat, type ImportActivation } from './io/import/index.ts';

// quantize: int8 and k-means weight sharing, trained quantization and quantization-aware training (issue 14)
export {
  quantizeRowsInt8, dequantizeRowsInt8, fakeQuantizeRowsInt8, kmeansCodebook, quantizeModel, quantizableParameters, QUANTIZE_METHODS,
  SharedWeightTraining, Int8AwareTraining, centroidGradients, quantizeAndFineTune, compressionStages, type CompressionStages,
  type KmeansOptions, type KmeansResult, type QuantizeMethod, type QuantizeOptions, type ModelQuantization,
  type FineTuneQuantizedOptions, type FineTuneQuantizedResult,
} from './quantize/index.ts';
export type { QuantizedValues, Int8Values, CodebookValues } from './io/encodings/quantized-values.ts';
export { roundToFloat16 } from './tensor/float16.ts';

// report: SVG charts and the self-contained HTML report, as strings
export {
  lineChart, barChart, renderReport, compressionChart,
  type LineChartOptions, type LineSeries, type BarChartOptions, type BarSeries, type ReferenceLine,
  type Report, type ReportSection, type ReportBlock, type TextBlock, type TableBlock, type ChartBlock, type KeyValueBlock,
  type CodeBlock, type TableColumn, type Cell, type RunMetadata, type CompressionChartOptions, type CompressionPoint,
} from './report/index.ts';
