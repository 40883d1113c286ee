import type { FloatArray } from '../tensor/tensor.ts';

/*
 * The panel layout of activations used by the sparse kernels (feature-major within panels of samples).
 *
 * A batch of `batch` samples × `features` features is cut into panels of consecutive samples with widths
 * 16, 8, 4 and 1 (`panelWidths`). The panel that starts at sample s0 and has width w occupies
 * `panels[s0·features .. (s0+w)·features)` and stores feature j of sample s0+t at `s0·features + j·w + t`.
 * A batch of 1 is therefore just the vector itself, and a batch of 16 is one [features × 16] matrix.
 * Each panel is contiguous, so a kernel sees it as a small feature-major matrix (see csr-matmul-panel.ts).
 */

/** The panel widths for a batch: as many 16s as fit, then at most one 8 and one 4, then 1s. */
export function panelWidths(batch: number): number[] {
  const widths: number[] = [];
  let left = batch;
  while (left >= 16) {
    widths.push(16);
    left -= 16;
  }
  if (left >= 8) {
    widths.push(8);
    left -= 8;
  }
  if (left >= 4) {
    widths.push(4);
    left -= 4;
  }
  for (; left > 0; left--) widths.push(1);
  return widths;
}

/**
 * Row-major `x[batch × features]` → panels (`out[batch·features]`), for the given panel widths. When
 * `rowSums[batch]` is given, also rowSums[s] = Σ_j x[s][j] in float64, read in the same pass (measured free:
 * the scattered stores bound the loop), which the compiled model's non-finite input check uses.
 * Complexity: O(batch·features).
 */
export function rowsToPanels(x: FloatArray, features: number, widths: readonly number[], out: Float64Array, rowSums: Float64Array | null = null): void {
  let s0 = 0;
  for (const w of widths) {
    const base = s0 * features;
    for (let t = 0; t < w; t++) {
      const row = (s0 + t) * features;
      let sum = 0;
      for (let j = 0; j < features; j++) {
        const v = x[row + j]!;
        out[base + j * w + t] = v;
        sum += v;
      }
      if (rowSums !== null) rowSums[s0 + t] = sum;
    }
    s0 += w;
  }
}

/** Panels → row-major `out[batch × features]`; the inverse of `rowsToPanels`. */
export function panelsToRows(panels: Float64Array, features: number, widths: readonly number[], out: FloatArray): void {
  let s0 = 0;
  for (const w of widths) {
    const base = s0 * features;
    for (let t = 0; t < w; t++) {
      const row = (s0 + t) * features;
      for (let j = 0; j < features; j++) out[row + j] = panels[base + j * w + t]!;
    }
    s0 += w;
  }
}

/** Subarray views of each panel (make them once per plan, so the hot path creates no objects). */
export function panelViews(buffer: Float64Array, features: number, widths: readonly number[]): Float64Array[] {
  const views: Float64Array[] = [];
  let s0 = 0;
  for (const w of widths) {
    views.push(buffer.subarray(s0 * features, (s0 + w) * features));
    s0 += w;
  }
  return views;
}
