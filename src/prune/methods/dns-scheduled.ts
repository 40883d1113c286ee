import type { TrainingHooks } from '../../nn/train.ts';
import { definePruningMethod } from '../method.ts';
import { kthSmallest } from '../quickselect.ts';
import { RegrowingMasks } from '../regrow.ts';
import { gradualSchedule } from '../schedule.ts';
import { maskTopK, maskWithHysteresis } from '../select-weights.ts';
import type { PruneTarget } from '../targets.ts';
import { pct } from './format.ts';

/**
 * A variant of Dynamic Network Surgery (Guo, Yao & Chen 2016; the paper's rule is `dns`) that reaches a
 * target sparsity. As in the paper: prune and splice — the forward pass uses W ⊙ T, every weight keeps
 * receiving gradient updates on a dense copy W (straight through), and two thresholds a < b with a
 * hysteresis band decide, |W| < a → T = 0, |W| > b → T = 1, otherwise T unchanged, with the paper's decaying
 * update probability σ(t) = (1 + γt)^(−power).
 *
 * What differs, on purpose: the paper's thresholds come from the layer's mean and std of |w|, so its
 * sparsity is an outcome. Here the target sparsity rises on the cubic schedule of Zhu & Gupta (a moving
 * target for splicing to correct, rather than one cut), a and b sit around each layer's current
 * sparsity-quantile of |W| (a band of ±margin, shrinking to zero), and at a fraction `endFraction` of
 * training the mask is cut exactly at the sparsity and frozen, so the rest of training recovers from the
 * last splice. Biases are not masked. Per layer by its rule (the run's scope does not apply); a layer with a
 * per-layer override follows the same schedule to its own sparsity.
 */
export const dnsScheduled = definePruningMethod<{ margin: number; endFraction: number; gamma: number; power: number }>({
  name: 'dns-scheduled',
  summary: 'Dynamic Network Surgery towards a target sparsity: cubic schedule, hysteresis band around the sparsity quantile',
  paper: 'variant of Guo et al. 2016 (target sparsity on a cubic schedule instead of mean/std thresholds)',
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
    const overrides = ctx.config.overrides ?? {};
    // One cubic schedule per layer: to the run's sparsity, or to the layer's own override.
    const schedules = new Map(ctx.targets.map((t) => [t, gradualSchedule({ finalSparsity: overrides[t.name] ?? ctx.sparsity, beginStep: 1, endStep, frequency: 1 })] as const));
    const masks = new RegrowingMasks(ctx.targets.map((t) => t.weight), { shadow: true });
    const keep = new Map<PruneTarget, Uint8Array>(ctx.targets.map((t) => [t, new Uint8Array(t.weight.value.size).fill(1)]));
    const hook: TrainingHooks = {
      ...masks.straightThroughHook(),
      afterStep(step) {
        const progress = Math.min(step.step / endStep, 1);
        const probability = (1 + gamma * step.step) ** -power;
        const last = step.step === endStep;
        for (const t of ctx.targets) {
          const sparsity = schedules.get(t)!.sparsityAt(step.step);
          let mask: Uint8Array = keep.get(t)!;
          if (last || (step.step < endStep && rng.uniform() < probability)) {
            mask = surgery(masks.weights(t.weight), mask, sparsity, last ? 0 : margin * (1 - progress));
            keep.set(t, mask);
          }
          masks.install(t.weight, mask);
        }
      },
    };
    ctx.note(`dns-scheduled: prune-and-splice towards ${pct(ctx.sparsity)} per layer for ${epochs} epochs`);
    ctx.train(epochs, 'dns-scheduled', [hook]);
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
