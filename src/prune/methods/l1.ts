import { ConfigError } from '../../errors.ts';
import type { Parameter } from '../../nn/parameter.ts';
import { Adam } from '../../nn/optim/adam.ts';
import type { Optimizer } from '../../nn/optim/optimizer.ts';
import { SGD } from '../../nn/optim/sgd.ts';
import { definePruningMethod } from '../method.ts';
import { RegrowingMasks } from '../regrow.ts';

/**
 * L1 regularisation by proximal steps: after every optimizer step, w ← sign(w)·max(|w| − τ, 0), which
 * prunes weights with |w| ≤ τ and shrinks the others. τ is the proximal step that matches the update in use,
 * so that λ means the same for every optimizer — training settles where the gradient of L + λ‖w‖₁ vanishes:
 *  - SGD: τ = lr·λ (ISTA, Daubechies et al. 2004); with heavy-ball momentum μ (the update is lr·v with
 *    v → g/(1 − μ)), τ = lr·λ/(1 − μ);
 *  - Adam, AdamW: per weight τ_i = lr·λ/(√v̂_i + ε), the preconditioned proximal step of ProxGen
 *    (Yun, Lozano & Yang 2021) — soft-thresholding by lr·λ after an Adam step would make λ depend on the
 *    gradient scale.
 * Pruned weights keep being updated from zero and return when a step carries them past τ; the sparsity is
 * the outcome of λ.
 */
export const l1 = definePruningMethod<{ lambda: number }>({
  name: 'l1',
  summary: 'L1 regularisation by a proximal step after every optimizer step (ISTA; ProxGen for Adam); λ from --lambda or a validation sweep',
  paper: 'ISTA (Daubechies et al. 2004); ProxGen (Yun et al. 2021) for Adam',
  options: {
    lambda: { type: 'number', min: 0, required: true, help: 'λ, the strength of the L1 penalty λ·‖w‖₁ added to the loss' },
  },
  usesCriterion: false,
  sparsity: 'outcome',
  minEpochs: 1,
  sweep: { option: 'lambda', candidates: [1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2] },
  run(ctx, { lambda }) {
    const { epochs } = ctx.config;
    ctx.note(`l1: proximal step for λ = ${lambda} (${ctx.config.optimizer ?? 'adam'}) after every step for ${epochs} epochs`);
    const masks = new RegrowingMasks(ctx.targets.map((t) => t.weight));
    ctx.train(epochs, 'l1', [{
      afterStep(step) {
        for (const t of ctx.targets) {
          const w = masks.weights(t.weight);
          const tau = proximalL1Thresholds(step.optimizer, t.weight, lambda);
          const mask = new Uint8Array(w.length);
          for (let i = 0; i < w.length; i++) {
            const shrunk = Math.abs(w[i]!) - tau[i]!;
            if (shrunk > 0) {
              w[i] = Math.sign(w[i]!) * shrunk;
              mask[i] = 1;
            }
          }
          masks.install(t.weight, mask);
        }
      },
    }]);
    masks.release();
  },
});

/**
 * The soft threshold τ_i of the proximal step of λ·‖w‖₁ that follows `optimizer`'s last step of `p`, per
 * weight (see `l1`). Throws ConfigError for an optimizer whose proximal step is not known here.
 */
export function proximalL1Thresholds(optimizer: Optimizer, p: Parameter, lambda: number): Float64Array {
  const scale = optimizer.lr * lambda;
  if (optimizer instanceof Adam) {
    const preconditioner = optimizer.preconditioner(p);
    if (preconditioner === null) return new Float64Array(p.value.size); // no step was taken for p: nothing to shrink
    return Float64Array.from(preconditioner, (c) => scale / c);
  }
  if (optimizer instanceof SGD) return new Float64Array(p.value.size).fill(scale / (1 - optimizer.momentum));
  throw new ConfigError(`l1: no proximal step is known for ${optimizer.constructor.name}; use optimizer 'sgd', 'adam' or 'adamw'`);
}
