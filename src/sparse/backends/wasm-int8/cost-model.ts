import type { CostModel } from '../../inference/cost-model.ts';
import { WASM_COST_MODEL } from '../wasm-simd/cost-model.ts';

/**
 * The int8 backend's cost model (formulas in inference/cost-model.ts): the same batch cut as the float SIMD
 * backend (16-sample panels and single vectors), dense and CSR kernels only. The per-layer activation
 * quantization is left out: both kernels pay it. Constants from `npx tsx bench/run.ts int8` (median of
 * interleaved rounds, CPU time, on a shared 2-core machine); what decides is their ratio: CSR panels win
 * below ≈ 50 % density, CSR vectors (SELL-4, kernels-int8-sell.ts; ~0.35 ns per entry) below ≈ 13 %, against
 * the dense 8-wide dot product at ~0.045 ns per weight. A 300×784 layer at batch 1 took 13–14 µs dense and
 * 4.1 / 6.2 / 10.0 / 16.5 µs SELL at 2 / 5 / 10 / 20 % (median of 3 timings of 40 ms; the scalar CSR gather it
 * replaced took 5.4 / 11.1 / 20.3 / 43.4 µs).
 */
export const INT8_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.045, 16: 0.022 },
    csr: { 1: 0.35, 16: 0.045 },
  },
  rowNs: { perCall: 1.5, perSample: 0.1 },
  skipZeros: { touchedNs: Infinity, columnNs: Infinity, scanNs: Infinity },
  split: WASM_COST_MODEL.split,
};
