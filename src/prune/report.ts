import { Conv2d } from '../nn/conv.ts';
import { Linear } from '../nn/linear.ts';
import type { Sequential } from '../nn/sequential.ts';
import { specShapes } from '../nn/spec-shapes.ts';

/** One weighted layer's entry in a SparsityReport: sizes, non-zeros, FLOPs and bytes, dense vs sparse. */
export interface LayerSparsity {
  readonly name: string;
  /** The weight as the matrix its CSR form stores: [out, in] for linear, [outChannels, inChannels/groups·kh·kw] for conv2d. */
  readonly shape: readonly [number, number];
  /** 'linear' or 'conv2d'. */
  readonly kind: 'linear' | 'conv2d';
  /** The weight's own shape ([out, in] or [outChannels, inChannels/groups, kh, kw]). */
  readonly weightShape: readonly number[];
  readonly parameters: number;
  /** Non-zero weights. */
  readonly nnz: number;
  readonly sparsity: number;
  /** Multiply-adds ×2 per sample for the weights (a conv2d weight is applied at each of its Ho·Wo output positions), dense and skipping zeros. */
  readonly flopsDense: number;
  readonly flopsSparse: number;
  /** Storage of weight + bias: dense float32, and CSR (float32 values, int32 indices and row pointers). */
  readonly bytesDense: number;
  readonly bytesSparse: number;
}

/** What `sparsityReport` returns: one entry per Linear and Conv2d layer and the totals over them. */
export interface SparsityReport {
  readonly layers: LayerSparsity[];
  readonly total: Omit<LayerSparsity, 'name' | 'shape' | 'kind' | 'weightShape'>;
}

/** Per-layer and total sparsity, parameters, FLOPs and bytes, dense vs sparse, of every Linear and Conv2d layer. */
export function sparsityReport(model: Sequential): SparsityReport {
  const layers: LayerSparsity[] = [];
  const needsShapes = model.layers.some((layer) => layer instanceof Conv2d);
  const outputs = needsShapes ? specShapes(model.spec()).outputs : null;
  model.layers.forEach((layer, index) => {
    if (!(layer instanceof Linear) && !(layer instanceof Conv2d)) return;
    const weightShape = [...layer.weight.value.shape];
    const rows = weightShape[0]!;
    const w = layer.weight.value.data;
    const cols = w.length / Math.max(rows, 1);
    // A conv2d filter is applied at every output position.
    const positions = layer instanceof Conv2d ? outputs![index]![1]! * outputs![index]![2]! : 1;
    let nnz = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++;
    const biasBytes = layer.bias === null ? 0 : 4 * rows;
    layers.push({
      name: `layers.${index}.weight`,
      shape: [rows, cols],
      kind: layer instanceof Conv2d ? 'conv2d' : 'linear',
      weightShape,
      parameters: w.length,
      nnz,
      sparsity: w.length === 0 ? 0 : 1 - nnz / w.length,
      flopsDense: 2 * w.length * positions,
      flopsSparse: 2 * nnz * positions,
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
