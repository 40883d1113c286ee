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
export { panelWidths, panelViews, rowsToPanels, panelsToRows } from './layout.ts';
export { COST_MODEL, chooseKernel, estimateKernelNs, type KernelName, type LayerCostInput } from './select-kernel.ts';
export {
  compileInference,
  SparseModel,
  type Activation,
  type CompileOptions,
  type InferenceModel,
  type InferenceLayer,
  type InferenceStrategy,
  type LayerReport,
} from './inference.ts';
export { WasmSparseModel, WASM_COST_MODEL, TAIL_PANEL_MIN, estimateWasmNs, type WasmStrategy } from './wasm/wasm-model.ts';
export { wasmSimdSupported } from './wasm/kernels.ts';
