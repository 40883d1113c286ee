import type { Parameter } from '../nn/parameter.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { TrainingHooks } from '../nn/train.ts';
import { GradientStats } from './gradient-stats.ts';
import type { MaskPlan } from './select.ts';
import type { PruneTarget } from './targets.ts';

/**
 * Movement pruning's bookkeeping (Sanh, Wolf & Rush 2020) for a method that reselects masks while training.
 * The model sees W' = W ⊙ M. The score S = −Σ_t (∂L/∂W'_t)·W_t is accumulated for *every* weight: the
 * gradient of the effective weight exists at pruned positions too (the straight-through estimator passes
 * it to the score), so a pruned weight's score keeps moving. The weight itself does not: ∂L/∂W = ∂L/∂W' ⊙ M,
 * so a pruned weight keeps the dense value W it had when it was pruned (here kept aside, since the model's
 * own pruned entries are zero), and returns with that value when its score climbs back into the top-k.
 *
 * Use: pass `hook()` to training, select with `previous` (the masks from before the run, which stay), and
 * `install` the plan; `release()` at the end. Difference from the paper's code: the optimizer's state of a
 * pruned weight is zeroed (this library's masks), where Adam's moments would decay in the paper's.
 */
export class StraightThroughScores {
  /** The accumulated statistics; movement reads −Σ w·g from them. */
  readonly stats: GradientStats;
  /** Each parameter's mask before the run: what was pruned then stays pruned (`SelectOptions.previous`). */
  readonly previous: ReadonlyMap<Parameter, Uint8Array | null>;
  private readonly dense = new Map<Parameter, Float32Array>();

  constructor(model: Sequential, private readonly targets: readonly PruneTarget[]) {
    this.stats = GradientStats.forTargets(targets);
    const params = model.parameters();
    this.previous = new Map(params.map((p) => [p, p.mask === null ? null : Uint8Array.from(p.mask)] as const));
    for (const p of params) this.dense.set(p, Float32Array.from(p.value.data));
    for (const t of targets) t.weight.keepPrunedGrad = true; // the gradient of W' at pruned positions, for the score
  }

  /** Accumulates the scores after backward (with the dense W) and records the kept weights' new values after each step. */
  hook(): TrainingHooks {
    return {
      afterBackward: () => this.stats.accumulate({ weights: this.dense }),
      afterStep: () => {
        for (const [p, dense] of this.dense) {
          const w = p.value.data;
          const mask = p.mask;
          for (let i = 0; i < w.length; i++) if (mask === null || mask[i] === 1) dense[i] = w[i]!;
        }
      },
    };
  }

  /** Installs a plan that may revive weights: a revived weight gets back its dense value W. */
  install(plan: MaskPlan): void {
    for (const [p, mask] of plan) {
      const before = p.mask;
      p.setMask(mask, { allowRegrow: true });
      const dense = this.dense.get(p);
      if (dense === undefined || before === null) continue;
      const w = p.value.data;
      for (let i = 0; i < w.length; i++) if (mask[i] === 1 && before[i] === 0) w[i] = dense[i]!;
    }
  }

  /** Ends the run: gradients of pruned weights are masked again. */
  release(): void {
    for (const t of this.targets) t.weight.keepPrunedGrad = false;
  }
}
