import type { BatchPart, CostModel } from '../../inference/cost-model.ts';

/** Below this many tail samples the tail runs as single vectors, from here on as one padded panel. */
export const TAIL_PANEL_MIN = 4;

/**
 * How the WebAssembly SIMD backend cuts a batch: batch = 16·panels + vectors. A tail of ≥ TAIL_PANEL_MIN
 * samples is padded to one more panel whose extra lanes are computed and discarded (a panel is ~7× cheaper
 * per sample than a vector for sparse layers, ~1.6× for dense ones); a shorter tail runs as single vectors.
 */
export function cutBatch(batch: number): { panels: number; vectors: number } {
  const panels = Math.floor(batch / 16);
  const vectors = batch - 16 * panels;
  return vectors >= TAIL_PANEL_MIN ? { panels: panels + 1, vectors: 0 } : { panels, vectors };
}

/**
 * The WebAssembly SIMD backend's cost model (formulas in inference/cost-model.ts): every kernel runs 16-sample
 * panels and single vectors, and the backend picks a kernel for each of the two separately.
 *
 * Constants: averages of two full `npx sparsegrad bench sparse` runs ("cost model" line: wasm*Ns), 300×784
 * and 1024×1024 rows. What decides is their ratio: CSR wins from ~18 % sparsity in panels and from ~82 % for
 * single vectors (on 300×784), where the dense kernel vectorises and the sparse gather does not. Skip-zeros
 * (batch 1): per stored entry of a non-zero input's column (a scatter: load, add, store), per non-zero input
 * column, and per input scanned; measured on 300×784 and 100×300 at 90–98 % sparsity with 20–100 % non-zero
 * inputs.
 */
export const WASM_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.11, 16: 0.066 },
    csr: { 1: 0.6, 16: 0.08 },
  },
  rowNs: { perCall: 0.5, perSample: 0 },
  skipZeros: { touchedNs: 1.2, columnNs: 1.0, scanNs: 0.3 },
  split: (_kernel, batch): BatchPart[] => {
    const { panels, vectors } = cutBatch(batch);
    const parts: BatchPart[] = [];
    if (panels > 0) parts.push({ width: 16, count: panels });
    if (vectors > 0) parts.push({ width: 1, count: vectors });
    return parts;
  },
};
