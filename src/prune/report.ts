import { Linear } from '../nn/linear.ts';
import type { Sequential } from '../nn/sequential.ts';

/** One Linear layer's entry in a SparsityReport: sizes, non-zeros, FLOPs and bytes, dense vs sparse. */
export interface LayerSparsity {
  readonly name: string;
  readonly shape: readonly [number, number];
  readonly parameters: number;
  /** Non-zero weights. */
  readonly nnz: number;
  readonly sparsity: number;
  /** Multiply-adds ×2 per sample for the weight matrix, dense and skipping zeros. */
  readonly flopsDense: number;
  readonly flopsSparse: number;
  /** Storage of weight + bias: dense float32, and CSR (float32 values, int32 indices and row pointers). */
  readonly bytesDense: number;
  readonly bytesSparse: number;
}

/** What `sparsityReport` returns: one entry per Linear layer and the totals over them. */
export interface SparsityReport {
  readonly layers: LayerSparsity[];
  readonly total: Omit<LayerSparsity, 'name' | 'shape'>;
}

/** Per-layer and total sparsity, parameters, FLOPs and bytes, dense vs sparse. */
export function sparsityReport(model: Sequential): SparsityReport {
  const layers: LayerSparsity[] = [];
  model.layers.forEach((layer, index) => {
    if (!(layer instanceof Linear)) return;
    const rows = layer.outFeatures;
    const cols = layer.inFeatures;
    const w = layer.weight.value.data;
    let nnz = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++;
    const biasBytes = layer.bias === null ? 0 : 4 * rows;
    layers.push({
      name: `layers.${index}.weight`,
      shape: [rows, cols],
      parameters: w.length,
      nnz,
      sparsity: w.length === 0 ? 0 : 1 - nnz / w.length,
      flopsDense: 2 * w.length,
      flopsSparse: 2 * nnz,
      bytesDense: 4 * w.length + biasBytes,
      bytesSparse: 8 * nnz + 4 * (rows + 1) + biasBytes,
    });
  });
  const sum = (key: 'parameters' | 'nnz' | 'flopsDense' | 'flopsSparse' | 'bytesDense' | 'bytesSparse'): number => layers.reduce((n, l) => n + l[key], 0);
  const parameters = sum('parameters');
  const nnz = sum('nnz');
  return {
    layers,
    total: {
      parameters,
      nnz,
      sparsity: parameters === 0 ? 0 : 1 - nnz / parameters,
      flopsDense: sum('flopsDense'),
      flopsSparse: sum('flopsSparse'),
      bytesDense: sum('bytesDense'),
      bytesSparse: sum('bytesSparse'),
    },
  };
}
