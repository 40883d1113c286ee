/*
 * The cost model that picks a kernel per layer and batch size (strategy 'auto' of compileInference).
 *
 * Every constant is a time per multiply-add in nanoseconds, measured by `npx tsx bench/run.ts sparse` on the
 * project machine (2-core KVM guest, Node 20) and copied here; see the report section "cost model" that the
 * benchmark prints. Only their ratios matter for the choice, so the rule carries over to faster or slower
 * machines of the same kind. Costs are summed over the panels the batch is cut into (layout.ts), because a
 * batch of 17 runs as one 16-wide panel plus one SpMV.
 *
 *   dense:   t = DENSE_NS(batch) · batch · in · out                       (gemmNT on row-major activations)
 *   csr:     t = Σ_panels CSR_NS(width) · width · nnz + ROW_NS · width · out
 *   bsr4x1:  t = Σ_panels BSR_NS(width) · width · storedEntries + ROW_NS · width · out
 *
 * The rule is deterministic: the same layer and batch always give the same kernel.
 */

export type KernelName = 'dense' | 'csr' | 'bsr4x1';

/** What the cost model needs to know about one layer. */
export interface LayerCostInput {
  inFeatures: number;
  outFeatures: number;
  /** Stored entries of the CSR form. */
  nnz: number;
  /** Stored entries (4 per block) of the 4×1 BSR form, or null when BSR is not a candidate. A sparse
   * format whose stored entries are not fewer than in·out is never chosen (a dense layer stays dense). */
  bsrStored: number | null;
}

/**
 * Measured constants (ns per multiply-add), from `npx tsx bench/run.ts sparse` (best of interleaved rounds,
 * 300×784 and 1024×1024 rows; the suite prints them as "cost model"), averaged over two full runs. The
 * absolute numbers drift ±30 % with machine load; the ratios that decide moved less: csr/dense ≈ 1.9–2.0
 * at batch 1 and ≈ 1.3–1.5 for 16-wide panels (so the rule's break-even is ≈ 50 % sparsity at batch 1
 * and ≈ 28 % at batch ≥ 16), bsr/csr ≈ 0.6 at batch 1 and ≈ 0.8 for panels.
 */
export const COST_MODEL = {
  /** gemmNT, batch 1..3 (matrix-vector shaped) and batch ≥ 4. */
  denseNsSmall: 0.95,
  denseNsBatch: 0.65,
  /** csrMatvec (width 1) and the 4/8/16-wide panel kernels, per stored nonzero and sample. */
  csrNs: { 1: 1.9, 4: 1.1, 8: 0.9, 16: 0.9 } as Record<number, number>,
  /** bsrMatvec and bsrMatmulPanel, per stored entry (block zeros included) and sample. */
  bsrNs: { 1: 1.2, 4: 0.75, 8: 0.72, 16: 0.72 } as Record<number, number>,
  /** Per output row and sample: loop set-up, bias, activation and the store. */
  rowNs: 1.5,
  /**
   * Batch 1 only: cscMatvecSkipZeros, per stored entry of a non-zero input column (a scatter costs ~2.5× a
   * gather), plus a scan per input. Measured with a probe on 300×784 and 100×300 at 90–95 % sparsity.
   */
  cscNsTouched: 3.8,
  scanNs: 0.4,
};

/**
 * Batch 1, decided per call from the input itself: skip zero inputs (CSC scatter) when the input is sparse
 * enough that touching density·nnz entries beats gathering all nnz (break-even ≈ 40–45 % input density).
 */
export function preferSkipZeros(nnz: number, outFeatures: number, inFeatures: number, nonZeroInputs: number): boolean {
  const gather = COST_MODEL.csrNs[1]! * nnz + COST_MODEL.rowNs * outFeatures;
  const scatter = COST_MODEL.cscNsTouched * nnz * (nonZeroInputs / Math.max(inFeatures, 1)) + COST_MODEL.scanNs * inFeatures + COST_MODEL.rowNs * outFeatures;
  return scatter < gather;
}

/** Estimated nanoseconds for one kernel on one layer at the given panel widths. */
export function estimateKernelNs(kernel: KernelName, layer: LayerCostInput, widths: readonly number[]): number {
  const batch = widths.reduce((a, w) => a + w, 0);
  if (kernel === 'dense') {
    const perMac = batch < 4 ? COST_MODEL.denseNsSmall : COST_MODEL.denseNsBatch;
    return perMac * batch * layer.inFeatures * layer.outFeatures;
  }
  const stored = kernel === 'csr' ? layer.nnz : layer.bsrStored;
  if (stored === null || stored >= layer.inFeatures * layer.outFeatures) return Infinity;
  const table = kernel === 'csr' ? COST_MODEL.csrNs : COST_MODEL.bsrNs;
  let ns = 0;
  for (const w of widths) ns += (table[w] ?? table[1]!) * w * stored + COST_MODEL.rowNs * w * layer.outFeatures;
  return ns;
}

/** The kernel with the smallest estimated time; ties go to the first of dense, csr, bsr4x1. */
export function chooseKernel(layer: LayerCostInput, widths: readonly number[]): KernelName {
  let best: KernelName = 'dense';
  let bestNs = estimateKernelNs('dense', layer, widths);
  for (const kernel of ['csr', 'bsr4x1'] as const) {
    const ns = estimateKernelNs(kernel, layer, widths);
    if (ns < bestNs) {
      best = kernel;
      bestNs = ns;
    }
  }
  return best;
}
