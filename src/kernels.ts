/**
 * sparsegrad/kernels — the low-level building blocks under the high-level API, for advanced users: the dense
 * GEMM kernels (TypeScript and WebAssembly SIMD), the sparse kernels of compiled inference and the panel
 * layout they read, and the cost model that picks a kernel per layer (for writing your own inference
 * backend; the backend contract itself — InferenceBackend, CompiledNetwork, registerInferenceBackend — is
 * in the main entry).
 *
 * Kernels are plain functions over typed arrays with explicit sizes, as their headers state: they trust
 * their arguments (sizes, a valid CSR structure from `validateCsr`), allocate nothing, and write only their
 * output arrays. A wrong size is the caller's bug and may give wrong numbers rather than an error; use the
 * main entry (`ops.matmul`, `compileInference`) for checked calls. Browser-safe, like the main entry.
 */

// dense matrix products, C (+)= A·B in the three layouts training needs (TypeScript, float32 or float64)
export { gemmNN, gemmNT, gemmTN } from './tensor/kernels/gemm.ts';
// the same on the WebAssembly SIMD kernels (float32; fall back to the TypeScript kernels without SIMD)
export { simdGemmNN, simdGemmNT, simdGemmTN, type RowRange } from './tensor/wasm/gemm.ts';

// sparse × dense kernels of compiled inference: y = act(W·x + b) with W in CSR, CSC or 4×1 BSR
export { csrMatvec } from './sparse/kernels/csr-matvec.ts';
export { cscMatvecSkipZeros } from './sparse/kernels/csc-matvec.ts';
export { csrMatmulPanel } from './sparse/kernels/csr-matmul-panel.ts';
export { csrMatmulRows } from './sparse/kernels/csr-matmul-rows.ts';
export { bsrMatvec } from './sparse/kernels/bsr-matvec.ts';
export { bsrMatmulPanel } from './sparse/kernels/bsr-matmul-panel.ts';
// the feature-major panel layout the batched sparse kernels read and write
export { panelWidths, rowsToPanels, panelsToRows, panelViews } from './sparse/layout.ts';

// the cost model: one rule for every backend, each backend's measured constants
export { KERNELS, chooseKernel, estimateKernelNs, preferSkipZeros, type LayerCostInput } from './sparse/inference/cost-model.ts';
export { JS_COST_MODEL } from './sparse/backends/js/cost-model.ts';
export { WASM_COST_MODEL } from './sparse/backends/wasm-simd/cost-model.ts';
