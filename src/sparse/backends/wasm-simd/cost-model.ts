import type { BatchPart, CostModel } from '../../inference/cost-model.ts';

/** Below this many tail samples the tail runs as single vectors, from here on as one padded panel. */
export const TAIL_PANEL_MIN = 6;

/**
 * How the WebAssembly SIMD backend cuts a batch: batch = 16·panels + vectors. A tail of ≥ TAIL_PANEL_MIN
 * samples is padded to one more panel whose extra lanes are computed and discarded; a shorter tail runs as
 * single vectors. Where the two cost the same, measured on LeNet-300-100 (`predict`, CPU time): one panel
 * costs ≈ 5 vectors when every layer is 95 % sparse (SELL-4 vectors, CSR panels) and ≈ 8–9 at 50 % (dense
 * vectors, CSR panels); 6 sits between, nearer the sparse case this backend is for.
 */
export function cutBatch(batch: number): { panels: number; vectors: number } {
  const panels = Math.floor(batch / 16);
  const vectors = batch - 16 * panels;
  return vectors >= TAIL_PANEL_MIN ? { panels: panels + 1, vectors: 0 } : { panels, vectors };
}

/**
 * The WebAssembly SIMD backend's cost model (formulas in inference/cost-model.ts): every kernel runs 16-sample
 * panels and single vectors, and the backend picks a kernel for each of the two separately. The CSR entries
 * are those of the kernels that run CSR weights: spmmPanel16 for panels and sellMatvec (SELL-4) for vectors.
 *
 * Constants: `npx tsx bench/run.ts sparse --quick cpu` ("cost model" line, fitted on medians of 5 interleaved
 * rounds timed by CPU time, on a machine shared with other jobs): ns per multiply-add of the dense kernels,
 * the slope of sparse time against nnz on 300×784 at 90–99 % for CSR (the intercept gives the row term:
 * 1.3 ns per output row for a vector call, 2.8 for a panel call), 4×1-block weights for BSR, and a least-squares
 * fit of the skip-zeros scatter over 12 points (2 shapes, 90 and 98 %, 10–60 % non-zero inputs). What decides
 * is the ratios: on 300×784 CSR wins from ≈ 38 % sparsity in panels and from ≈ 69 % for vectors (the SELL-4
 * gather costs ≈ 3× a dense multiply-add, the scalar spmv it replaced ≈ 6×), 4×1 BSR beats CSR whenever it
 * is kept (it stores ≤ 1.5× CSR's entries, and costs 0.58× per entry for vectors, 0.77× in panels).
 */
export const WASM_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.077, 16: 0.047 },
    csr: { 1: 0.24, 16: 0.075 },
    bsr4x1: { 1: 0.14, 16: 0.058 },
  },
  rowNs: { perCall: 1.2, perSample: 0.1 },
  skipZeros: { touchedNs: 0.6, columnNs: 0.5, scanNs: 0.95 },
  split: (_kernel, batch): BatchPart[] => {
    const { panels, vectors } = cutBatch(batch);
    const parts: BatchPart[] = [];
    if (panels > 0) parts.push({ width: 16, count: panels });
    if (vectors > 0) parts.push({ width: 1, count: vectors });
    return parts;
  },
};
