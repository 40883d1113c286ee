import type { TrainingHooks } from '../../nn/train.ts';
import { checkSparsity, type PruneTarget } from '../targets.ts';

/**
 * RigL (Evci et al. 2020): train at a fixed sparsity, periodically moving connections. Every ΔT steps
 * (until a fraction `endFraction` of training) each layer drops the fraction α_t of its active weights
 * with the smallest |w| and grows the same number of inactive connections with the largest |∂L/∂w|
 * (the dense gradient is available because our gradients are masked only inside the optimizer).
 * α_t follows the paper's cosine decay α/2·(1 + cos(πt/T_end)). Grown weights start at zero, so the
 * parameter count never changes. The initial mask is the caller's (e.g. magnitude pruning).
 */
export interface RiglOptions {
  totalSteps: number;
  /** Steps between connection updates ΔT (default 100). */
  updateEvery?: number;
  /** Initial drop fraction α (default 0.3, the paper's). */
  dropFraction?: number;
  /** Stop updating after this fraction of training (default 0.75). */
  endFraction?: number;
}

export function riglHook(targets: readonly PruneTarget[], options: RiglOptions): TrainingHooks & { readonly updates: number[] } {
  const { totalSteps, updateEvery = 100, dropFraction = 0.3, endFraction = 0.75 } = options;
  checkSparsity(dropFraction, 'RigL drop fraction');
  const endStep = Math.floor(totalSteps * endFraction);
  const updates: number[] = [];
  for (const t of targets) t.weight.keepPrunedGrad = true; // growth ranks pruned connections by their gradient
  return {
    updates,
    afterBackward(ctx) {
      if (ctx.step % updateEvery !== 0 || ctx.step >= endStep) return;
      const alpha = (dropFraction / 2) * (1 + Math.cos((Math.PI * ctx.step) / endStep));
      for (const t of targets) dropAndGrow(t, alpha);
      updates.push(ctx.step);
    },
    afterStep(ctx) {
      if (ctx.step >= ctx.totalSteps) for (const t of targets) t.weight.keepPrunedGrad = false;
    },
  };
}

function dropAndGrow(t: PruneTarget, alpha: number): void {
  const p = t.weight;
  const mask = p.mask;
  const grad = p.grad;
  if (mask === null || grad === null) return;
  const w = p.value.data;
  const g = grad.data;
  const active: number[] = [];
  const inactive: number[] = [];
  for (let i = 0; i < mask.length; i++) (mask[i] === 1 ? active : inactive).push(i);
  const k = Math.min(Math.round(alpha * active.length), inactive.length);
  if (k === 0) return;
  // Drop: the k active weights of smallest magnitude. Grow: the k inactive ones of largest gradient.
  active.sort((a, b) => Math.abs(w[a]!) - Math.abs(w[b]!) || a - b);
  inactive.sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!) || a - b);
  const next = Uint8Array.from(mask);
  for (let j = 0; j < k; j++) next[active[j]!] = 0;
  for (let j = 0; j < k; j++) {
    next[inactive[j]!] = 1;
    w[inactive[j]!] = 0; // grown connections start at zero
  }
  p.setMask(next, { allowRegrow: true });
}
