import { gemmNT } from '../../../tensor/kernels/gemm.ts';
import type { FloatArray } from '../../../tensor/tensor.ts';
import { bsrFromDense, type BSRMatrix } from '../../bsr-matrix.ts';
import { csrToDense, csrTranspose } from '../../convert.ts';
import type { CSRMatrix } from '../../csr-matrix.ts';
import type { KernelName } from '../../inference/cost-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import type { LayerFacts } from '../../inference/model.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import { bsrMatmulPanel } from '../../kernels/bsr-matmul-panel.ts';
import { countNonZeros, cscMatvecSkipZeros } from '../../kernels/csc-matvec.ts';
import { csrMatmulPanel } from '../../kernels/csr-matmul-panel.ts';
import { preferSkipZeros } from '../../inference/cost-model.ts';
import { JS_COST_MODEL } from './cost-model.ts';

/*
 * One layer of the TypeScript backend: its stored forms and how one kernel runs it over a whole batch.
 * Dense steps read and write row-major activations; sparse steps read and write panels (layout.ts).
 */

/** A layer as the TypeScript backend keeps it. */
export interface JsLayer extends LayerFacts {
  readonly bias: Float32Array | null;
  /** The dense weight [out, in], made from the CSR form only when some plan runs this layer dense. */
  dense: Float32Array | null;
  readonly csr: CSRMatrix;
  /** The same weights by columns (CSC), for batch-1 calls whose input is mostly zeros. */
  readonly csc: CSRMatrix;
  readonly bsr: BSRMatrix | null;
}

/** The stored forms of one validated layer; `forceBsr` keeps BSR even for unstructured weights. */
export function compileJsLayer(layer: CheckedLayer, forceBsr: boolean): JsLayer {
  const { inFeatures, outFeatures, activation, bias, csr } = layer;
  // BSR is a candidate only for weights that are (close to) 4×1-block structured: on unstructured sparsity
  // its blocks are mostly zeros and it would do several times CSR's work. Counted from the CSR form, so a
  // layer given as CSR is not expanded to dense (layer.masked) unless BSR is really built.
  const bsr: BSRMatrix | null = forceBsr || bsrStoredEntries(csr) <= 1.5 * csr.nnz ? bsrFromDense(layer.masked, outFeatures, inFeatures) : null;
  // No dense copy is kept: it is rebuilt from CSR only if a plan picks the dense kernel, so a model that
  // runs sparse holds only its sparse form.
  return {
    inFeatures, outFeatures, activation, bias, dense: null, csr, csc: csrTranspose(csr), bsr,
    nnz: csr.nnz, density: csr.density, csrBytes: csr.bytes,
    bsrStored: bsr === null ? null : bsr.storedEntries, bsrBytes: bsr === null ? null : bsr.bytes,
  };
}

/**
 * Stored entries of the 4×1 BSR form bsrFromDense would build (4 per block of 4 rows × 1 column holding a
 * nonzero), counted from CSR without building it. O(nnz + nCols).
 */
function bsrStoredEntries(csr: CSRMatrix): number {
  const lastGroup = new Int32Array(csr.nCols).fill(-1); // the last block row that used each column
  let blocks = 0;
  for (let r = 0; r < csr.nRows; r++) {
    const group = r >> 2;
    for (let k = csr.indptr[r]!; k < csr.indptr[r + 1]!; k++) {
      const column = csr.indices[k]!;
      if (csr.values[k] === 0 || lastGroup[column] === group) continue;
      lastGroup[column] = group;
      blocks++;
    }
  }
  return 4 * blocks;
}

/** The layer's dense weight [out, in], rebuilt from CSR on first use and kept from then on. */
export function denseWeight(layer: JsLayer): Float32Array {
  if (layer.dense === null) layer.dense = csrToDense(layer.csr);
  return layer.dense;
}

/**
 * y = act(x·Wᵀ + b) with gemmNT, the project's dense kernel, on row-major x [batch × in] → y [batch × out];
 * bias and activation in one pass after it. ReLU keeps NaN (`z < 0 ? 0 : z`), like the sparse kernels.
 */
export function runDense(layer: JsLayer, batch: number, x: FloatArray, y: FloatArray): void {
  const { inFeatures, outFeatures, bias, activation } = layer;
  gemmNT(batch, outFeatures, inFeatures, x, denseWeight(layer), y);
  if (bias === null && activation === 'none') return;
  for (let s = 0; s < batch; s++) {
    const row = s * outFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const z = y[row + o]! + (bias === null ? 0 : bias[o]!);
      y[row + o] = activation === 'relu' ? (z < 0 ? 0 : z) : activation === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : activation === 'tanh' ? Math.tanh(z) : z;
    }
  }
}

/**
 * One sparse layer over all panels (xViews[p] → yViews[p], panel p of width widths[p]); ReLU is fused into
 * the kernels, sigmoid and tanh run after. At batch 1 a mostly-zero input runs the skip-zeros kernel.
 */
export function runSparse(layer: JsLayer, kernel: Exclude<KernelName, 'dense'>, widths: readonly number[], xViews: Float64Array[], yViews: Float64Array[]): void {
  const relu = layer.activation === 'relu';
  const { outFeatures, inFeatures, bias } = layer;
  if (kernel === 'bsr4x1') {
    const { indptr, indices, values } = layer.bsr!;
    for (let p = 0; p < widths.length; p++) bsrMatmulPanel(outFeatures, widths[p]!, indptr, indices, values, bias, relu, xViews[p]!, yViews[p]!);
  } else if (widths.length === 1 && widths[0] === 1 && preferSkipZeros(JS_COST_MODEL, layer.nnz, inFeatures, countNonZeros(inFeatures, xViews[0]!))) {
    // Batch 1 with a mostly-zero input (ReLU activations, image background): touch only the weights of
    // the non-zero inputs. Exact for finite weights (compileInference refuses others); see csc-matvec.ts.
    const { indptr, indices, values } = layer.csc;
    cscMatvecSkipZeros(outFeatures, inFeatures, indptr, indices, values, bias, relu, xViews[0]!, yViews[0]!);
  } else {
    const { indptr, indices, values } = layer.csr;
    for (let p = 0; p < widths.length; p++) csrMatmulPanel(outFeatures, widths[p]!, indptr, indices, values, bias, relu, xViews[p]!, yViews[p]!);
  }
  if (layer.activation === 'sigmoid' || layer.activation === 'tanh') {
    for (let p = 0; p < widths.length; p++) applyActivationInPlace(layer.activation, yViews[p]!);
  }
}
