import type { TrainingHooks } from '../../nn/train.ts';
import type { Rng } from '../../tensor/rng.ts';
import { keptPerLayer, LAYER_DISTRIBUTIONS, type LayerDistribution } from '../layer-densities.ts';
import { definePruningMethod } from '../method.ts';
import { exchangeWeights } from '../select-weights.ts';
import { pct } from './format.ts';

/**
 * RigL (Evci, Gale, Menick, Castro & Elsen 2020), "Rigging the Lottery": train at a fixed sparsity from a
 * sparse start, moving connections. Every ΔT steps while t < T_end (a fraction `endFraction` of training),
 * each layer drops the fraction α_t = α/2·(1 + cos(πt/T_end)) of its active weights with the smallest |w|
 * and grows as many connections with the largest |∂L/∂w| among those inactive after the drop (the dense
 * gradient: the targets keep their pruned gradients while RigL runs). Newly grown weights start at zero
 * with zero optimizer state; a weight dropped and regrown in the same update keeps its value, as in the
 * official code. Layer sparsities follow the ERK (default) or uniform distribution, scaled to the global
 * budget (per-layer overrides are fixed layers of that budget; the run's scope does not apply).
 *
 * The paper's own setting — the default — is sparse from scratch: the model is re-initialised and each
 * layer starts from a random mask at its density. `start: 'trained'` instead keeps the given trained
 * weights and starts from the largest |w| of each layer at the same densities (a variant for pruning a
 * trained model). ΔT = 100 in the paper is for ImageNet-length runs; by default ΔT = min(100, T_end/10), so
 * a short run still makes about ten updates. Differences: the paper skips the weight update on a step
 * that changes masks; here the step happens, then the connections move. Ties break by position instead
 * of the official code's tiny noise.
 */
export const rigl = definePruningMethod<{ updateEvery: number | undefined; dropFraction: number; endFraction: number; distribution: string; start: string }>({
  name: 'rigl',
  summary: 'RigL: sparse from scratch (ERK), periodically drop by |w| and regrow by |∂L/∂w|',
  paper: 'Evci et al. 2020',
  options: {
    updateEvery: { type: 'integer', min: 1, defaultText: 'min(100, T_end/10)', help: 'optimizer steps between connection updates (ΔT)' },
    dropFraction: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.3, help: 'initial fraction α of active weights moved per update (cosine-decayed)' },
    endFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.75, help: 'stop updating connections after this fraction of training (T_end)' },
    distribution: { type: 'choice', choices: LAYER_DISTRIBUTIONS, default: 'erk', help: 'how the sparsity is spread over layers: erk (Erdős–Rényi-Kernel) or uniform' },
    start: { type: 'choice', choices: ['scratch', 'trained'], default: 'scratch', help: 'scratch: re-initialise with a random sparse mask (the paper); trained: keep the trained weights, largest |w| per layer' },
  },
  usesCriterion: false,
  minEpochs: 1,
  run(ctx, { updateEvery, dropFraction, endFraction, distribution, start }) {
    const { epochs } = ctx.config;
    const overrides = ctx.config.overrides ?? {};
    if (start === 'scratch') ctx.reinitialize();
    const targets = ctx.targets;
    const kept = keptPerLayer(
      targets.map((t) => ({
        rows: t.weight.value.shape[0]!, cols: t.weight.value.shape[1]!,
        ...(t.weight.value.rank === 4 ? { kernel: [t.weight.value.shape[2]!, t.weight.value.shape[3]!] as const } : {}),
        ...(t.name in overrides ? { sparsity: overrides[t.name]! } : {}),
      })),
      ctx.sparsity,
      distribution as LayerDistribution,
    );
    targets.forEach((t, k) => {
      const mask = start === 'scratch' ? randomMask(t.weight.value.size, kept[k]!, ctx.random.method) : largestMask(t.weight.value.data, kept[k]!);
      t.weight.setMask(mask, { allowRegrow: true });
    });
    const total = epochs * ctx.batchesPerEpoch;
    const endStep = Math.floor(total * endFraction);
    const every = updateEvery ?? riglUpdateInterval(endStep);
    ctx.note(`rigl: ${start === 'scratch' ? 're-initialised, random sparse masks' : 'largest |w| of the trained model'} at ${pct(ctx.currentSparsity())} (${distribution}: ${targets.map((t, k) => pct(1 - kept[k]! / t.weight.value.size)).join(', ')}); drop and grow every ${every} steps until step ${endStep} of ${total}`);
    let growScores: Float64Array[] | null = null;
    let updates = 0;
    for (const t of targets) t.weight.keepPrunedGrad = true; // growth ranks pruned connections by their gradient
    const hook: TrainingHooks = {
      afterBackward(step) {
        // The optimizer zeroes pruned gradients in place, so keep |∂L/∂w| of this step for the update after it.
        if (step.step % every === 0 && step.step < endStep) growScores = targets.map((t) => Float64Array.from(t.weight.grad!.data, Math.abs));
      },
      afterStep(step) {
        if (growScores === null) return;
        const alpha = (dropFraction / 2) * (1 + Math.cos((Math.PI * step.step) / endStep));
        targets.forEach((t, k) => {
          const p = t.weight;
          const next = exchangeWeights(p.mask!, Float64Array.from(p.value.data, Math.abs), growScores![k]!, alpha);
          if (next !== null) p.setMask(next, { allowRegrow: true }); // grown weights were pruned, so they are 0
        });
        growScores = null;
        updates++;
      },
    };
    try {
      ctx.train(epochs, 'rigl', [hook]);
    } finally {
      for (const t of targets) t.weight.keepPrunedGrad = false;
    }
    ctx.note(`rigl: ${updates} connection updates`);
  },
});

/**
 * RigL's ΔT for a run whose connection updates end at step `endStep`: the paper's 100 where that leaves at
 * least ten updates, otherwise endStep/10 (at least 1), so short runs still make about ten.
 */
export function riglUpdateInterval(endStep: number): number {
  return Math.max(1, Math.min(100, Math.round(endStep / 10)));
}

/** A mask keeping `kept` of `n` weights chosen uniformly at random. */
function randomMask(n: number, kept: number, rng: Rng): Uint8Array {
  const mask = new Uint8Array(n);
  const order = rng.permutation(n);
  for (let j = 0; j < kept; j++) mask[order[j]!] = 1;
  return mask;
}

/** A mask keeping the `kept` weights of largest |w| (ties by position). */
function largestMask(w: ArrayLike<number>, kept: number): Uint8Array {
  const order = Array.from({ length: w.length }, (_, i) => i).sort((a, b) => Math.abs(w[b]!) - Math.abs(w[a]!) || a - b);
  const mask = new Uint8Array(w.length);
  for (let j = 0; j < kept; j++) mask[order[j]!] = 1;
  return mask;
}
