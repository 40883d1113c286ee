import { chooseKernel, type KernelName } from '../../inference/cost-model.ts';
import { panelViews } from '../../layout.ts';
import { JS_COST_MODEL } from './cost-model.ts';
import { runDense, runSparse, type JsLayer } from './layer.ts';

/**
 * Strategy 'autotune': times each candidate kernel on this layer at this batch size (zero inputs, best of a
 * few runs) and returns the fastest. Falls back to the cost model on an engine without `performance.now`.
 * Not deterministic: the choice follows the machine's speed at the time.
 */
export function autotune(layer: JsLayer, batch: number, widths: readonly number[]): KernelName {
  const now = (globalThis as { performance?: { now(): number } }).performance;
  if (now === undefined) return chooseKernel(JS_COST_MODEL, layer, batch);
  const rows = new Float32Array(batch * layer.inFeatures);
  const rowsOut = new Float32Array(batch * layer.outFeatures);
  const panels = new Float64Array(batch * layer.inFeatures);
  const panelsOut = new Float64Array(batch * layer.outFeatures);
  const xViews = panelViews(panels, layer.inFeatures, widths);
  const yViews = panelViews(panelsOut, layer.outFeatures, widths);
  const candidates: KernelName[] = layer.bsr === null ? ['dense', 'csr'] : ['dense', 'csr', 'bsr4x1'];
  let best: KernelName = 'dense';
  let bestTime = Infinity;
  for (const kernel of candidates) {
    const once = kernel === 'dense' ? () => runDense(layer, batch, rows, rowsOut) : () => runSparse(layer, kernel, widths, xViews, yViews);
    once(); // warm-up
    let fastest = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t0 = now.now();
      once();
      fastest = Math.min(fastest, now.now() - t0);
    }
    if (fastest < bestTime) {
      best = kernel;
      bestTime = fastest;
    }
  }
  return best;
}
