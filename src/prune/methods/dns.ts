import type { TrainingHooks } from '../../nn/train.ts';
import { definePruningMethod } from '../method.ts';
import { kthSmallest } from '../quickselect.ts';
import { RegrowingMasks } from '../regrow.ts';
import { gradualSchedule } from '../schedule.ts';
import { maskTopK, maskWithHysteresis } from '../select-weights.ts';
import type { PruneTarget } from '../targets.ts';
import { pct } from './format.ts';

/**
 * Dynamic Network Surgery (Guo, Yao & Chen 2016): prune and splice. The forward pass uses W ⊙ T, but every
 * weight — pruned or not — keeps receiving gradient updates on a dense copy W (straight through), so a
 * wrongly pruned connection whose magnitude grows back is spliced in again. Two thresholds a < b with a
 * hysteresis band: |W| < a → T = 0, |W| > b → T = 1, otherwise T unchanged.
 *
 * NOTE: a variant of the paper's rule. Here the target sparsity rises on the cubic schedule of Zhu & Gupta
 * (so splicing has a moving target to correct, rather than a one-shot cut), a and b sit around the layer's
 * current sparsity-quantile of |W| (a band of ±margin, shrinking to zero), and T is updated with the
 * paper's decaying probability σ(t) = (1 + γt)^(−power) until a fraction `endFraction` of training; there
 * the mask is cut exactly at the sparsity and frozen, so the rest of training recovers from the last
 * splice instead of ending on an untrained mask change.
 */
export const dns = definePruningMethod<{ margin: number; endFraction: number; gamma: number; power: number }>({
  name: 'dns',
  summary: 'Dynamic Network Surgery: prune and splice with a hysteresis band, dense shadow weights',
  paper: 'Guo et al. 2016',
  options: {
    margin: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.1, help: 'relative half-width of the hysteresis band around the sparsity quantile of |W|' },
    endFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.75, help: 'fraction of training after which the mask is frozen' },
    gamma: { type: 'number', min: 0, default: 1e-4, help: 'γ in the mask-update probability σ(t) = (1 + γt)^(−power)' },
    power: { type: 'number', min: 0, default: 1, help: 'the power in σ(t)' },
  },
  usesCriterion: false,
  minEpochs: 1,
  run(ctx, { margin, endFraction, gamma, power }) {
    const { epochs } = ctx.config;
    const rng = ctx.random.method;
    const endStep = Math.max(1, Math.floor(epochs * ctx.batchesPerEpoch * endFraction));
    const schedule = gradualSchedule({ finalSparsity: ctx.sparsity, beginStep: 1, endStep, frequency: 1 });
    const masks = new RegrowingMasks(ctx.targets, { shadow: true });
    const keep = new Map<PruneTarget, Uint8Array>(ctx.targets.map((t) => [t, new Uint8Array(t.weight.value.size).fill(1)]));
    const hook: TrainingHooks = {
      ...masks.straightThroughHook(),
      afterStep(step) {
        const progress = Math.min(step.step / endStep, 1);
        const probability = (1 + gamma * step.step) ** -power;
        const last = step.step === endStep;
        const sparsity = schedule.sparsityAt(step.step);
        for (const t of ctx.targets) {
          let mask: Uint8Array = keep.get(t)!;
          if (last || (step.step < endStep && rng.uniform() < probability)) {
            mask = surgery(masks.weights(t), mask, sparsity, last ? 0 : margin * (1 - progress));
            keep.set(t, mask);
          }
          masks.install(t, mask);
        }
      },
    };
    ctx.note(`dns: prune-and-splice towards ${pct(ctx.sparsity)} for ${epochs} epochs`);
    ctx.train(epochs, 'dns', [hook]);
    masks.release();
  },
});

/** The next mask T: a band of ±margin around the sparsity-quantile of |W| (margin 0: exactly the sparsity). */
function surgery(w: Float32Array, previous: Uint8Array, sparsity: number, margin: number): Uint8Array {
  const prune = Math.round(sparsity * w.length);
  if (prune === 0) return new Uint8Array(w.length).fill(1);
  const magnitudes = Float64Array.from(w, Math.abs);
  if (margin === 0) return maskTopK([magnitudes], sparsity)[0]!;
  const quantile = kthSmallest(Float64Array.from(magnitudes), prune - 1);
  return maskWithHysteresis(previous, magnitudes, quantile * (1 - margin), quantile * (1 + margin));
}
