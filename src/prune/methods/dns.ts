import type { TrainingHooks } from '../../nn/train.ts';
import type { Rng } from '../../tensor/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { kthSmallest } from '../quickselect.ts';
import { gradualSchedule } from '../schedule.ts';
import { checkSparsity, type PruneTarget } from '../targets.ts';

/**
 * Dynamic Network Surgery (Guo, Yao & Chen 2016): prune and splice. The forward pass uses W ⊙ T, but every
 * weight — pruned or not — keeps receiving gradient updates on a dense copy W, so a wrongly pruned
 * connection whose magnitude grows back is spliced in again. Two thresholds a < b with a hysteresis band:
 *   |W| < a → T = 0,   |W| > b → T = 1,   otherwise T unchanged.
 * Here the target sparsity rises on the cubic schedule of Zhu & Gupta (so splicing has a moving target to
 * correct, rather than a one-shot cut), a and b sit around the layer's current sparsity-quantile of |W| (a band of ±margin, shrinking to zero),
 * and T is updated with the paper's decaying probability σ(t) = (1 + γt)^(−power) until a fraction
 * `endFraction` of training; there the mask is cut exactly at the sparsity and frozen, so the rest of
 * training recovers from the last splice instead of ending on an untrained mask change.
 *
 * Mechanics: during the step the parameter temporarily holds the dense W so the optimizer updates it with
 * the gradient computed at W ⊙ T (the straight-through update of the paper), then gets W ⊙ T back.
 */
export interface DnsOptions {
  sparsity: number;
  totalSteps: number;
  rng: Rng;
  /** Relative half-width of the hysteresis band around the quantile (default 0.1). */
  margin?: number;
  /** Fraction of training after which the mask is frozen (default 0.75). */
  endFraction?: number;
  /** Probability decay σ(t) = (1 + γt)^(−power); defaults γ = 1e-4, power = 1 (the paper's Caffe settings). */
  gamma?: number;
  power?: number;
}

interface SurgeryState {
  readonly target: PruneTarget;
  readonly dense: Tensor;
  readonly effective: Tensor;
  readonly keep: Uint8Array;
}

export function dnsHook(targets: readonly PruneTarget[], options: DnsOptions): TrainingHooks & { finalize(): void } {
  checkSparsity(options.sparsity);
  const { sparsity, totalSteps, rng, margin = 0.1, gamma = 1e-4, power = 1, endFraction = 0.75 } = options;
  const endStep = Math.max(1, Math.floor(totalSteps * endFraction));
  const schedule = gradualSchedule({ finalSparsity: sparsity, beginStep: 1, endStep, frequency: 1 });
  const states: SurgeryState[] = targets.map((target) => {
    const value = target.weight.value;
    const state = {
      target,
      dense: new Tensor(Float32Array.from(value.data), value.shape),
      effective: value,
      keep: new Uint8Array(value.size).fill(1),
    };
    writeEffective(state);
    return state;
  });

  return {
    afterBackward() {
      for (const s of states) s.target.weight.value = s.dense; // the optimizer updates every weight
    },
    afterStep(ctx) {
      const progress = Math.min(ctx.step / endStep, 1);
      const probability = (1 + gamma * ctx.step) ** -power;
      const last = ctx.step === endStep;
      const target = schedule.sparsityAt(ctx.step);
      for (const s of states) {
        if (last || (ctx.step < endStep && rng.uniform() < probability)) updateMask(s, target, last ? 0 : margin * (1 - progress));
        writeEffective(s);
        s.target.weight.value = s.effective;
      }
    },
    finalize() {
      for (const s of states) {
        writeEffective(s);
        s.target.weight.value = s.effective;
        s.target.weight.setMask(Uint8Array.from(s.keep), { allowRegrow: true });
      }
    },
  };
}

function updateMask(s: SurgeryState, sparsity: number, margin: number): void {
  const w = s.dense.data;
  const n = w.length;
  const prune = Math.round(sparsity * n);
  if (prune === 0) {
    s.keep.fill(1);
    return;
  }
  const magnitudes = Float64Array.from(w, Math.abs);
  const quantile = kthSmallest(magnitudes, prune - 1);
  if (margin === 0) {
    // Exact: prune the `prune` smallest (ties by position), keep the rest.
    let below = 0;
    for (let i = 0; i < n; i++) if (Math.abs(w[i]!) < quantile) below++;
    let ties = prune - below;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(w[i]!);
      s.keep[i] = a < quantile || (a === quantile && ties-- > 0) ? 0 : 1;
    }
    return;
  }
  const low = quantile * (1 - margin);
  const high = quantile * (1 + margin);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(w[i]!);
    if (a < low) s.keep[i] = 0;
    else if (a > high) s.keep[i] = 1;
  }
}

function writeEffective(s: SurgeryState): void {
  const w = s.dense.data;
  const out = s.effective.data;
  for (let i = 0; i < w.length; i++) out[i] = s.keep[i] === 1 ? w[i]! : 0;
}
