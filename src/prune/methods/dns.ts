import type { Parameter } from '../../nn/parameter.ts';
import type { Sequential } from '../../nn/sequential.ts';
import type { TrainingHooks } from '../../nn/train.ts';
import { definePruningMethod } from '../method.ts';
import { kthSmallest } from '../quickselect.ts';
import { RegrowingMasks } from '../regrow.ts';
import { findTargets, type PruneTarget } from '../targets.ts';
import { pct } from './format.ts';

/**
 * Dynamic Network Surgery (Guo, Yao & Chen 2016), as their Caffe code does it (compress_conv_layer.cu):
 *  - once, before the first iteration, per layer: μ = mean |w| and σ = std |w| over the layer's non-zero
 *    weights and biases, and the threshold t = max(μ + c·σ, 0) with the layer's c (`cRate`);
 *  - at iteration 0, and after every later step with probability σ(iter) = (1 + γ·iter)^(−power) while
 *    iter < iterStop (a fraction `endFraction` of training): a kept weight or bias with |w| ≤ 0.9·t is
 *    pruned, a pruned one with |w| > 1.1·t is spliced back (surgery), the band in between keeps its state;
 *  - the forward pass uses W ⊙ T, and the update is applied to every weight — the gradient is taken at
 *    W ⊙ T and not masked (straight through) — so a pruned weight can grow back past 1.1·t.
 * The sparsity is the outcome of c. Each layer draws its own coin, as each Caffe layer calls rand().
 * The paper tunes c per layer; here one c serves every layer (`calibrate` picks the c that prunes a target
 * fraction at iteration 0, for comparison grids). Per layer by its rule: the run's scope does not apply.
 */
export const dns = definePruningMethod<{ cRate: number; gamma: number; power: number; endFraction: number }>({
  name: 'dns',
  summary: 'Dynamic Network Surgery: prune |w| ≤ 0.9·(μ+cσ), splice back |w| > 1.1·(μ+cσ), weights and biases, straight through',
  paper: 'Guo, Yao & Chen 2016',
  options: {
    cRate: { type: 'number', required: true, help: "c in each layer's threshold max(μ + c·σ, 0), μ and σ the mean and std of |w| over its weights and biases" },
    gamma: { type: 'number', min: 0, default: 1e-4, help: 'γ in the mask-update probability σ(iter) = (1 + γ·iter)^(−power)' },
    power: { type: 'number', min: 0, default: 1, help: 'the power in σ(iter)' },
    endFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.75, help: "fraction of training after which masks stop changing (the paper's iter_stop)" },
  },
  usesCriterion: false,
  sparsity: 'outcome',
  minEpochs: 1,
  sweep: { option: 'cRate', candidates: [0, 0.5, 1, 1.5, 2, 3] },
  calibrate: (model, sparsity) => ({ cRate: calibrateCRate(model, sparsity) }),
  run(ctx, { cRate, gamma, power, endFraction }) {
    const { epochs } = ctx.config;
    const rng = ctx.random.method;
    const iterStop = Math.max(1, Math.floor(epochs * ctx.batchesPerEpoch * endFraction));
    const layers = ctx.targets.map((t) => {
      const { mu, sigma } = layerMoments(t);
      return { params: layerParams(t), threshold: Math.max(mu + cRate * sigma, 0) };
    });
    const masks = new RegrowingMasks(layers.flatMap((l) => l.params), { shadow: true });
    const current = new Map<Parameter, Uint8Array>();
    for (const { params } of layers) for (const p of params) current.set(p, p.mask === null ? new Uint8Array(p.value.size).fill(1) : Uint8Array.from(p.mask));
    const surgery = (layer: (typeof layers)[number]): void => {
      for (const p of layer.params) current.set(p, dnsSurgery(current.get(p)!, masks.weights(p), layer.threshold));
    };
    const installAll = (): void => {
      for (const [p, mask] of current) masks.install(p, Uint8Array.from(mask));
    };
    for (const layer of layers) surgery(layer); // iteration 0: σ(0) = 1
    installAll();
    ctx.note(`dns: thresholds ${layers.map((l) => l.threshold.toPrecision(3)).join(', ')} (c = ${cRate}), pruned to ${pct(ctx.currentSparsity())} at iteration 0; prune and splice for ${epochs} epochs, masks fixed from step ${iterStop} (per layer by its rule; scope does not apply)`);
    const hook: TrainingHooks = {
      ...masks.straightThroughHook(),
      afterStep(step) {
        const probability = (1 + gamma * step.step) ** -power;
        for (const layer of layers) if (rng.uniform() < probability && step.step < iterStop) surgery(layer);
        installAll();
      },
    };
    ctx.train(epochs, 'dns', [hook]);
    masks.release();
  },
});

/**
 * One surgery of the paper's rule (CCMaskCalc): a kept entry with |w| ≤ 0.9·t is pruned, a pruned entry
 * with |w| > 1.1·t is spliced back, the others keep their state. Returns a new mask.
 */
export function dnsSurgery(previous: Uint8Array, w: ArrayLike<number>, threshold: number): Uint8Array {
  const mask = Uint8Array.from(previous);
  for (let i = 0; i < mask.length; i++) {
    const magnitude = Math.abs(w[i]!);
    if (mask[i] === 1 && magnitude <= 0.9 * threshold) mask[i] = 0;
    else if (mask[i] === 0 && magnitude > 1.1 * threshold) mask[i] = 1;
  }
  return mask;
}

/** The layer's weight and bias (the paper masks both). */
function layerParams(t: PruneTarget): Parameter[] {
  return t.layer.bias === null ? [t.weight] : [t.weight, t.layer.bias];
}

/** μ = mean |w| and σ = std |w| over the layer's non-zero (and unpruned) weights and biases. */
function layerMoments(t: PruneTarget): { mu: number; sigma: number } {
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  for (const p of layerParams(t)) {
    const w = p.value.data;
    for (let i = 0; i < w.length; i++) {
      const v = p.mask !== null && p.mask[i] === 0 ? 0 : w[i]!;
      if (v === 0) continue;
      sum += Math.abs(v);
      sumSq += v * v;
      count++;
    }
  }
  if (count === 0) return { mu: 0, sigma: 0 };
  const mu = sum / count;
  return { mu, sigma: Math.sqrt(Math.max(sumSq / count - mu * mu, 0)) };
}

/**
 * The c for which the paper's first surgery, |w| ≤ 0.9·max(μ + c·σ, 0) per layer, prunes a fraction
 * `sparsity` of the model's prunable weights: how comparison grids put `dns` on a sparsity axis (its final
 * sparsity is whatever prune-and-splice then makes of it).
 */
export function calibrateCRate(model: Sequential, sparsity: number): number {
  const ratios: number[] = [];
  for (const t of findTargets(model)) {
    const { mu, sigma } = layerMoments(t);
    const w = t.weight.value.data;
    // Weight i is pruned once c ≥ (|w_i|/0.9 − μ)/σ; zeros are pruned at any c.
    for (let i = 0; i < w.length; i++) ratios.push(w[i] === 0 || sigma === 0 ? -1e30 : (Math.abs(w[i]!) / 0.9 - mu) / sigma);
  }
  const k = Math.min(Math.max(Math.round(sparsity * ratios.length), 1), ratios.length) - 1;
  const c = kthSmallest(Float64Array.from(ratios), k);
  return c + 1e-9 * Math.abs(c) + 1e-12; // on the pruning side of the k-th weight despite rounding
}
