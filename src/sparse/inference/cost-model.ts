/*
 * The cost model that picks a kernel per layer and batch size (strategy 'auto' of compileInference), in one
 * shape for every backend: a backend supplies its measured constants (a CostModel) and how it cuts a batch
 * into kernel calls; the rule below is the same for all of them.
 *
 * Constants are times in nanoseconds, measured by `npx sparsegrad bench sparse` on the project machine; only
 * their ratios matter for the choice, so the rule carries over to faster or slower machines of the same
 * kind. For one kernel on one layer, summed over the calls the backend makes for the batch (`split`):
 *
 *   dense:   t = Σ_calls macNs.dense(width) · width · in · out
 *   csr:     t = Σ_calls macNs.csr(width) · width · nnz           + out · (rowNs.perCall + rowNs.perSample · width)
 *   bsr4x1:  t = Σ_calls macNs.bsr4x1(width) · width · stored      + the same row term
 *
 * where macNs.k(width) is the constant listed for the largest width ≤ the call's width. A sparse format whose
 * stored entries are not fewer than in·out is never chosen (a dense layer stays dense), nor is a kernel the
 * backend does not list. The rule is deterministic: the same layer and batch always give the same kernel.
 */

/** The kernels a compiled layer can run, in the order that breaks ties in the cost model. */
export const KERNELS = ['dense', 'csr', 'bsr4x1'] as const;

/** 'dense': W as a dense matrix; 'csr': compressed sparse rows; 'bsr4x1': 4×1 blocks (see bsr-matrix.ts). */
export type KernelName = (typeof KERNELS)[number];

/** `count` kernel calls on `width` samples each (padding lanes a backend computes and discards count too). */
export interface BatchPart {
  readonly width: number;
  readonly count: number;
}

/** What the cost model needs to know about one layer. */
export interface LayerCostInput {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Stored entries of the CSR form. */
  readonly nnz: number;
  /** Stored entries (4 per block) of the 4×1 BSR form, or null when BSR is not a candidate. */
  readonly bsrStored: number | null;
}

/** One backend's measured constants; see the formulas at the top of this file. */
export interface CostModel {
  /**
   * ns per multiply-add and sample, per kernel, by panel width: `{ 1: a, 16: b }` means `a` for calls of
   * 1–15 samples and `b` from 16 on; every table lists width 1. Dense counts in·out multiply-adds per sample,
   * CSR its nonzeros, BSR its stored entries (block zeros included). A kernel the backend lacks is absent.
   */
  readonly macNs: Readonly<Partial<Record<KernelName, Readonly<Record<number, number>>>>>;
  /**
   * Per output row of a sparse kernel (loop set-up, bias, activation, the store): ns per kernel call and ns per
   * sample of the call. The dense constants were measured with theirs included.
   */
  readonly rowNs: { readonly perCall: number; readonly perSample: number };
  /**
   * Batch 1, skipping zero inputs (CSC scatter, cscMatvecSkipZeros) instead of gathering every nonzero at
   * macNs.csr(1): ns per stored entry of a non-zero input's column, per such column, and per input scanned.
   */
  readonly skipZeros: { readonly touchedNs: number; readonly columnNs: number; readonly scanNs: number };
  /** How the backend cuts a batch into calls of this kernel. */
  split(kernel: KernelName, batch: number): readonly BatchPart[];
}

/** The constant of `table` for a call of `width` samples: the entry of the largest listed width ≤ width. */
export function nsAtWidth(table: Readonly<Record<number, number>>, width: number): number {
  let bestWidth = -1;
  for (const key in table) {
    const w = Number(key);
    if (w <= width && w > bestWidth) bestWidth = w;
  }
  return bestWidth < 0 ? Infinity : table[bestWidth]!;
}

/** Estimated nanoseconds for one kernel on one layer at a batch size (Infinity when it is not a candidate). */
export function estimateKernelNs(model: CostModel, kernel: KernelName, layer: LayerCostInput, batch: number): number {
  const table = model.macNs[kernel];
  if (table === undefined) return Infinity;
  const denseMacs = layer.inFeatures * layer.outFeatures;
  const work = kernel === 'dense' ? denseMacs : kernel === 'csr' ? layer.nnz : layer.bsrStored;
  if (work === null) return Infinity;
  if (kernel !== 'dense' && work >= denseMacs) return Infinity;
  let ns = 0;
  for (const { width, count } of model.split(kernel, batch)) {
    let call = nsAtWidth(table, width) * width * work;
    if (kernel !== 'dense') call += layer.outFeatures * (model.rowNs.perCall + model.rowNs.perSample * width);
    ns += count * call;
  }
  return ns;
}

/** The kernel with the smallest estimated time at this batch size; ties go to the first of KERNELS. */
export function chooseKernel(model: CostModel, layer: LayerCostInput, batch: number): KernelName {
  let best: KernelName = 'dense';
  let bestNs = Infinity;
  for (const kernel of KERNELS) {
    const ns = estimateKernelNs(model, kernel, layer, batch);
    if (ns < bestNs) {
      best = kernel;
      bestNs = ns;
    }
  }
  return best;
}

/**
 * Batch 1, decided per call from the input itself: whether scattering the columns of the `nonZeroInputs`
 * non-zero inputs (touching about nnz·nonZeroInputs/inFeatures weights) beats gathering all nnz. The row
 * overhead is the same on both sides and left out. False when the backend has no CSR kernel.
 */
export function preferSkipZeros(model: CostModel, nnz: number, inFeatures: number, nonZeroInputs: number): boolean {
  const csr = model.macNs.csr;
  if (csr === undefined) return false;
  const { touchedNs, columnNs, scanNs } = model.skipZeros;
  const gather = csr[1]! * nnz; // runs once per layer and call: a direct lookup, no search
  const scatter = touchedNs * nnz * (nonZeroInputs / Math.max(inFeatures, 1)) + columnNs * nonZeroInputs + scanNs * inFeatures;
  return scatter < gather;
}
