export { CSRMatrix } from './csr-matrix.ts';
export { validateCsr } from './validate.ts';
export { csrFromDense, csrToDense, csrTranspose, type CsrFromDenseOptions } from './convert.ts';
export { BSRMatrix, bsrFromDense, bsrToDense } from './bsr-matrix.ts';
export { csrMatvec } from './kernels/csr-matvec.ts';
export { cscMatvecSkipZeros, countNonZeros } from './kernels/csc-matvec.ts';
export { csrMatmulPanel, csrMatmulPanel16, csrMatmulPanel8, csrMatmulPanel4 } from './kernels/csr-matmul-panel.ts';
export { csrMatmulRows } from './kernels/csr-matmul-rows.ts';
export { bsrMatvec } from './kernels/bsr-matvec.ts';
export { bsrMatmulPanel } from './kernels/bsr-matmul-panel.ts';
export { flagNonFiniteRows } from './kernels/non-finite.ts';
export { panelWidths, panelViews, rowsToPanels, panelsToRows } from './layout.ts';
// compiled inference: the contract, the dispatcher, the registry of backends
export { KERNELS, chooseKernel, estimateKernelNs, preferSkipZeros, type BatchPart, type CostModel, type KernelName, type LayerCostInput } from './inference/cost-model.ts';
export { STRATEGIES, type InferenceBackend, type BackendCompileOptions, type InferenceStrategy } from './inference/backend.ts';
export { checkLayers, type Activation, type AnyInferenceLayer, type CheckedLayer, type CsrInferenceLayer, type InferenceLayer } from './inference/layers.ts';
export { CompiledNetwork, type InferenceModel, type LayerFacts, type LayerReport, type Plan, type PlanStep } from './inference/model.ts';
export {
  BACKEND_NAMES, DEFAULT_BACKEND, FALLBACK_BACKEND, defaultBackendName, findInferenceBackend, inferenceBackends, registerInferenceBackend,
  type BackendModel, type BackendName,
} from './inference/registry.ts';
export { compileInference, type CompileOptions } from './inference/compile.ts';
export { type CheckedConv, type ConvInferenceLayer, type ConvPool } from './inference/conv-layers.ts';
export { convLayerFrom, fuseConvActivation, fusePool, imageAfter, type ConvWeightLike, type WindowSpecLike } from './inference/conv-fuse.ts';
export { ConvNetworkModel, type ConvStage } from './inference/conv-model.ts';
// the built-in backends
export { jsBackend } from './backends/js/backend.ts';
export { JS_COST_MODEL } from './backends/js/cost-model.ts';
export { SparseModel } from './backends/js/model.ts';
export { wasmSimdBackend } from './backends/wasm-simd/backend.ts';
export { WASM_COST_MODEL, TAIL_PANEL_MIN } from './backends/wasm-simd/cost-model.ts';
export { WasmSparseModel } from './backends/wasm-simd/model.ts';
export { wasmSimdSupported } from './backends/wasm-simd/kernels.ts';
export { prepareWasmSimd } from './backends/wasm-simd/prepared.ts';
