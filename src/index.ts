/**
 * sparsegrad — train, prune and run sparse neural networks on a CPU, in pure TypeScript.
 * This entry point is browser-safe (no Node APIs). File I/O, data loading and the CLI live in
 * `sparsegrad/node`.
 */
export * from './errors.ts';

// tensor: shapes, seeded RNG, Float32/64 tensors, validated ops and dense kernels
export * from './tensor/index.ts';

// autograd: reverse-mode differentiation, ops with forward and backward side by side, gradcheck
export {
  Var, constant, variable, backward, noGrad, isGradEnabled, gradcheck, assertGradcheck,
  add, sub, mul, div, neg, exp, log, relu, sigmoid, tanh, matmul, linear, sum, mean, max, softmax, logSoftmax, reshape, crossEntropy, mse,
  type GradcheckOptions, type GradcheckResult, type Labels,
} from './autograd/index.ts';

// nn: modules, optimizers, schedules, training loop
export {
  Parameter, Module, Layer, Linear, ReLU, Sigmoid, Tanh, Dropout, Sequential, buildModel, mlp, mlpSpec, parseArchitecture, cloneModel,
  Optimizer, SGD, Adam, AdamW, constantLR, stepLR, cosineLR, fit, evaluate, predict, predictClasses,
  type LayerSpec, type ModelSpec, type InitScheme, type LRSchedule, type FitOptions, type TrainingHistory, type EpochStats, type StepContext,
  type TrainingHooks, type ProgressEvent, type Evaluation,
} from './nn/index.ts';

// data: the Dataset contract, IDX parsing, validation splits
export { validateDataset, subset, type Dataset, type DataSplit } from './data/dataset.ts';
export { parseIdx, idxToDataset, encodeIdx, type IdxArray } from './data/idx.ts';
export { splitValidation, type ValidationSplit } from './data/split.ts';

// sparse: CSR/BSR matrices, kernels, sparse inference and its backends
export {
  CSRMatrix, validateCsr, csrFromDense, csrToDense, csrTranspose, BSRMatrix, bsrFromDense, bsrToDense, csrMatvec, compileInference, SparseModel,
  WasmSparseModel, wasmSimdSupported, registerInferenceBackend, inferenceBackends, BACKEND_NAMES, DEFAULT_BACKEND,
  type CompileOptions, type InferenceLayer, type InferenceModel, type InferenceStrategy, type LayerReport,
  type InferenceBackend, type BackendCompileOptions, type BackendName, type CostModel, type CheckedLayer, type KernelName,
  CompiledNetwork, type Plan, type PlanStep, type LayerFacts,
} from './sparse/index.ts';

// prune: criteria, granularity, scope, schedules, the method registry, reports
export * from './prune/index.ts';

// study: comparison grids, sweeps, sensitivity analysis and their charts
export * from './study/index.ts';

// compile: a trained nn model → a compiled inference model
export { compileModel, inferenceLayers } from './compile/index.ts';

// io: model files (safetensors) and ONNX export, as bytes
export { serializeModel, deserializeModel, readModelHeader, type ModelRecord, type ParamRecord, type CsrRecord } from './io/model-file.ts';
export { modelToRecord, modelFromRecord, type ToRecordOptions } from './io/model-adapter.ts';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.ts';
export { exportOnnx, type OnnxExportOptions } from './io/onnx/export.ts';
export { importModel, detectImportFormat, IMPORT_FORMATS, type ImportOptions, type ImportFormat, type ImportActivation } from './io/import/index.ts';

// report: SVG charts and the HTML report, as strings
export { lineChart, barChart, renderReport, type Report, type LineChartOptions } from './report/index.ts';
