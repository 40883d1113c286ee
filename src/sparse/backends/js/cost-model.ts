import type { BatchPart, CostModel, KernelName } from '../../inference/cost-model.ts';
import { panelWidths } from '../../layout.ts';

/**
 * The TypeScript backend's cost model (formulas in inference/cost-model.ts). Sparse kernels run a batch as
 * panels of 16, 8, 4 and 1 samples (layout.ts); the dense kernel (gemmNT) runs the whole batch at once, so
 * its "width" is the batch: one constant for batch 1–3 (matrix-vector shaped) and one from 4 on.
 *
 * Constants: ns per multiply-add from `npx tsx bench/run.ts sparse` (best of interleaved rounds, 300×784 and
 * 1024×1024 rows; the suite prints them as "cost model"), averaged over two full runs on the project machine
 * (2-core KVM guest, Node 20). The absolute numbers drift ±30 % with machine load; the ratios that decide
 * moved less: csr/dense ≈ 1.9–2.0 at batch 1 and ≈ 1.3–1.5 for 16-wide panels (so the break-even is ≈ 50 %
 * sparsity at batch 1 and ≈ 28 % at batch ≥ 16 on a 300×784 layer), bsr/csr ≈ 0.6 at batch 1 and ≈ 0.8 for
 * panels. Skip-zeros (batch 1, cscMatvecSkipZeros): per stored entry of a non-zero input's column, plus a
 * scan per input; measured with a probe on 300×784 and 100×300 at 90–95 % sparsity.
 */
export const JS_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.95, 4: 0.65 },
    csr: { 1: 1.9, 4: 1.1, 8: 0.9, 16: 0.9 },
    bsr4x1: { 1: 1.2, 4: 0.75, 8: 0.72, 16: 0.72 },
  },
  rowNs: { perCall: 0, perSample: 1.5 },
  skipZeros: { touchedNs: 3.8, columnNs: 0, scanNs: 0.4 },
  split: (kernel: KernelName, batch: number): BatchPart[] => (kernel === 'dense' ? [{ width: batch, count: 1 }] : panelParts(batch)),
};

/** panelWidths(batch) as runs of equal widths, e.g. 37 → 16×2, 4×1, 1×1. */
function panelParts(batch: number): BatchPart[] {
  const parts: { width: number; count: number }[] = [];
  for (const width of panelWidths(batch)) {
    const last = parts[parts.length - 1];
    if (last !== undefined && last.width === width) last.count++;
    else parts.push({ width, count: 1 });
  }
  return parts;
}
