import { ConfigError } from '../errors.ts';

/**
 * The unit that is pruned as a whole. A weight is seen as the matrix its CSR form stores — [out, in] for a
 * Linear layer, [outChannels, inChannels/groups·kh·kw] for a Conv2d layer (one row per filter):
 *  - weight: single connections (unstructured);
 *  - neuron (also 'filter'): a whole output unit — a Linear layer's neuron or a Conv2d layer's filter: its
 *    row of weights, its bias, and the next layer's inputs it feeds (an input column of a Linear layer, an
 *    input channel of a Conv2d layer, or the H·W flattened columns of its channel);
 *  - channel: a whole input channel — a Conv2d layer's weights [:, c, :, :] (a Linear layer's input column);
 *    once a channel is pruned in every filter, the previous layer's filter that feeds it is dead too;
 *  - kernel: one k×k slice w[o, c, :, :] of a Conv2d layer (a single weight of a Linear layer);
 *  - nm: N:M semi-structured — in every group of M consecutive inputs of a row keep exactly N; for Conv2d the
 *    group runs along the input channels (w[o, c..c+M, i, j]), the layout sparse tensor cores use;
 *  - block: rows×cols tiles of the matrix (1×4: four consecutive inputs of one unit; 4×1: one input
 *    of four consecutive units), the shapes a blocked sparse kernel can exploit.
 */
export type Granularity =
  | { readonly kind: 'weight' }
  | { readonly kind: 'neuron' }
  | { readonly kind: 'channel' }
  | { readonly kind: 'kernel' }
  | { readonly kind: 'nm'; readonly n: number; readonly m: number }
  | { readonly kind: 'block'; readonly rows: number; readonly cols: number };

/** The granularities in words, for error messages and help. */
export const GRANULARITY_NAMES = ['weight', 'neuron (= filter)', 'channel', 'kernel', 'N:M (e.g. 2:4)', 'RxC block (e.g. 1x4, 4x1)'];

/** 'weight', 'neuron'/'filter', 'channel', 'kernel', 'N:M' or 'RxC' as a Granularity; throws ConfigError naming the valid forms. */
export function parseGranularity(text: string): Granularity {
  if (text === 'weight' || text === 'unstructured') return { kind: 'weight' };
  if (text === 'neuron' || text === 'row' || text === 'filter') return { kind: 'neuron' };
  if (text === 'channel') return { kind: 'channel' };
  if (text === 'kernel') return { kind: 'kernel' };
  const nm = /^(\d+):(\d+)$/.exec(text);
  if (nm) {
    const n = Number(nm[1]);
    const m = Number(nm[2]);
    if (m < 1 || n < 1) throw new ConfigError(`N:M granularity needs N ≥ 1 and M ≥ 1, got ${text}`);
    if (n > m) throw new ConfigError(`N:M granularity needs N ≤ M (keep N of every M), got ${text}`);
    return { kind: 'nm', n, m };
  }
  const block = /^(\d+)x(\d+)$/.exec(text);
  if (block) {
    const rows = Number(block[1]);
    const cols = Number(block[2]);
    if (rows < 1 || cols < 1) throw new ConfigError(`block granularity needs positive sizes, got ${text}`);
    return rows === 1 && cols === 1 ? { kind: 'weight' } : { kind: 'block', rows, cols };
  }
  throw new ConfigError(`unknown granularity '${text}' (expected ${GRANULARITY_NAMES.join(', ')})`);
}

/** The inverse of `parseGranularity`: 'weight', 'neuron', 'channel', 'kernel', '2:4', '4x1'. */
export function formatGranularity(g: Granularity): string {
  switch (g.kind) {
    case 'weight': return 'weight';
    case 'neuron': return 'neuron';
    case 'channel': return 'channel';
    case 'kernel': return 'kernel';
    case 'nm': return `${g.n}:${g.m}`;
    case 'block': return `${g.rows}x${g.cols}`;
  }
}

/** The sparsity an N:M pattern implies. */
export function nmSparsity(g: { n: number; m: number }): number {
  return 1 - g.n / g.m;
}
