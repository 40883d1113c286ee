import type { CostModel } from '../../inference/cost-model.ts';
import { WASM_COST_MODEL } from '../wasm-simd/cost-model.ts';

/**
 * What a batch-1 sparse form costs per slot (ns), to choose between the two (placeVectorCsr, weights.ts):
 * a swizzle slot (16 lanes, kernels-int8-swizzle.ts), a SELL-4 slot (4 lanes, kernels-int8-sell.ts) plus
 * converting each input's code to float32 first. 300×784 at 90 / 95 / 98 % sparsity, CPU time, median of 7:
 * 1.16 / 1.21 / 1.26 ns per swizzle slot, 1.0 ns per SELL slot (`npx tsx experiments/int8-swizzle-probe.ts`).
 */
export const VECTOR_CSR_NS = { swizzleSlot: 1.2, sellSlot: 1.0, sellInput: 0.13 };

/**
 * The int8 backend's cost model (formulas in inference/cost-model.ts): the same batch cut as the float SIMD
 * backend (16-sample panels and single vectors), dense and CSR kernels only. The per-layer activation
 * quantization is left out: both kernels pay it. Constants from `npx tsx bench/run.ts int8` and
 * experiments/int8-swizzle-probe.ts (median of interleaved rounds, CPU time, on a shared 2-core machine); what
 * decides is their ratio. Panels: CSR pairs at ~0.045 ns per entry against the dense dot product at 0.022 per
 * weight, so CSR wins below ≈ 50 % density. Vectors: the dense 8-wide dot product at ~0.045 ns per weight
 * (10.3 µs on 300×784) against the batch-1 sparse form at ~0.09 ns per entry — the swizzle kernel's 0.075 /
 * 0.10 / 0.13 / 0.20 ns per entry at 50 / 80 / 90 / 95 % sparsity, rising as its windows fill less — so CSR
 * wins below ≈ 50 % density too.
 */
export const INT8_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.045, 16: 0.022 },
    csr: { 1: 0.09, 16: 0.045 },
  },
  rowNs: { perCall: 1.5, perSample: 0.1 },
  skipZeros: { touchedNs: Infinity, columnNs: Infinity, scanNs: Infinity },
  split: WASM_COST_MODEL.split,
};
