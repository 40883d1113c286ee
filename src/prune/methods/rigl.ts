import type { TrainingHooks } from '../../nn/train.ts';
import { definePruningMethod } from '../method.ts';
import { exchangeWeights } from '../select-weights.ts';
import type { PruneTarget } from '../targets.ts';
import { pct } from './format.ts';

/**
 * RigL (Evci et al. 2020): train at a fixed sparsity, periodically moving connections. Every ΔT steps
 * (until a fraction `endFraction` of training) each layer drops the fraction α_t of its active weights
 * with the smallest |w| and grows the same number of inactive connections with the largest |∂L/∂w|
 * (the dense gradient is available because the targets keep their pruned gradients while RigL runs).
 * α_t follows the paper's cosine decay α/2·(1 + cos(πt/T_end)). Grown weights start at zero, so the
 * parameter count never changes. The initial mask is magnitude pruning of the trained model.
 */
export const rigl = definePruningMethod<{ updateEvery: number; dropFraction: number; endFraction: number }>({
  name: 'rigl',
  summary: 'RigL: fixed sparsity, periodically drop by |w| and regrow by |∂L/∂w|',
  paper: 'Evci et al. 2020',
  options: {
    updateEvery: { type: 'integer', min: 1, default: 100, help: 'optimizer steps between connection updates (ΔT)' },
    dropFraction: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.3, help: 'initial fraction α of active weights moved per update (cosine-decayed)' },
    endFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.75, help: 'stop updating connections after this fraction of training' },
  },
  usesCriterion: false,
  minEpochs: 1,
  run(ctx, { updateEvery, dropFraction, endFraction }) {
    const { epochs } = ctx.config;
    ctx.pruneTo(ctx.sparsity, { criterion: 'magnitude' });
    const endStep = Math.floor(epochs * ctx.batchesPerEpoch * endFraction);
    const targets = ctx.targets;
    let updates = 0;
    for (const t of targets) t.weight.keepPrunedGrad = true; // growth ranks pruned connections by their gradient
    const hook: TrainingHooks = {
      afterBackward(step) {
        if (step.step % updateEvery !== 0 || step.step >= endStep) return;
        const alpha = (dropFraction / 2) * (1 + Math.cos((Math.PI * step.step) / endStep));
        for (const t of targets) dropAndGrow(t, alpha);
        updates++;
      },
      afterStep(step) {
        if (step.step >= step.totalSteps) for (const t of targets) t.weight.keepPrunedGrad = false;
      },
    };
    ctx.note(`rigl: magnitude-pruned to ${pct(ctx.currentSparsity())}, then drop/regrow while training ${epochs} epochs`);
    ctx.train(epochs, 'rigl', [hook]);
    ctx.note(`rigl: ${updates} connection updates`);
  },
});

/** One connection update of one layer; pruned weights are exactly zero, so grown ones start at zero. */
function dropAndGrow(t: PruneTarget, alpha: number): void {
  const p = t.weight;
  if (p.mask === null || p.grad === null) return;
  const next = exchangeWeights(p.mask, Float64Array.from(p.value.data, Math.abs), Float64Array.from(p.grad.data, Math.abs), alpha);
  if (next !== null) p.setMask(next, { allowRegrow: true });
}
