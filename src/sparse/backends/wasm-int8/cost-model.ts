import type { CostModel } from '../../inference/cost-model.ts';
import { WASM_COST_MODEL } from '../wasm-simd/cost-model.ts';

/**
 * The int8 backend's cost model (formulas in inference/cost-model.ts): the same batch cut as the float SIMD
 * backend (16-sample panels and single vectors), dense and CSR kernels only. The per-layer activation
 * quantization is left out: both kernels pay it. Constants from `npx tsx bench/run.ts int8` (median of
 * interleaved rounds, CPU time, on a shared 2-core machine); what decides is their ratio: CSR panels win
 * below ≈ 50 % density, CSR vectors below ≈ 15 % (a scalar gather against an 8-wide dot product).
 */
export const INT8_COST_MODEL: CostModel = {
  macNs: {
    dense: { 1: 0.03, 16: 0.022 },
    csr: { 1: 0.2, 16: 0.045 },
  },
  rowNs: { perCall: 1.5, perSample: 0.1 },
  skipZeros: { touchedNs: Infinity, columnNs: Infinity, scanNs: Infinity },
  split: WASM_COST_MODEL.split,
};
