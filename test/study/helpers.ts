/**
 * Test helpers for studies: data whose every sample carries its id, and a pruning method that records the
 * ids of every sample training visits — the instrument behind the "validation data is never trained on"
 * tests.
 */
import type { Dataset } from '../../src/data/dataset.ts';
import { definePruningMethod, pruningMethods, registerPruningMethod } from '../../src/prune/index.ts';
import { toyData } from '../prune/helpers.ts';

/** Ids are stored in the last feature as id · 2⁻¹² (exact in float32 below 2²⁴). */
const ID_SCALE = 4096;

/** The toy problem (12 features, 3 classes) with sample i's last feature holding `firstId + i`. */
export function taggedData(count: number, seed: number, firstId: number, name: string): Dataset {
  const data = toyData(count, 12, 3, seed, name);
  for (let i = 0; i < count; i++) data.x[i * 12 + 11] = (firstId + i) / ID_SCALE;
  return data;
}

/** The ids of the samples in `x` (rows of `features` values), as tagged by `taggedData`. */
export function idsOf(x: ArrayLike<number>, features: number): number[] {
  const ids: number[] = [];
  for (let r = 0; r * features < x.length; r++) ids.push(Math.round(x[r * features + features - 1]! * ID_SCALE));
  return ids;
}

/** Every sample id a training step of the 'visit-probe' method saw since the last `takeVisits()`. */
const visits: number[] = [];

/** Returns and forgets the ids visited so far. */
export function takeVisits(): Set<number> {
  const seen = new Set(visits);
  visits.length = 0;
  return seen;
}

/**
 * Registers (once) 'visit-probe': it prunes to the target sparsity by magnitude, then trains for the run's
 * epochs, recording the id of every sample in every training batch.
 */
export function registerVisitProbe(): void {
  if (pruningMethods().some((m) => m.name === 'visit-probe')) return;
  registerPruningMethod(definePruningMethod<Record<string, never>>({
    name: 'visit-probe',
    summary: 'test instrument: prune by magnitude, train, record the samples every batch visits',
    paper: '',
    options: {},
    usesCriterion: true,
    run(ctx) {
      ctx.pruneTo(ctx.sparsity);
      ctx.train(ctx.config.epochs, 'probe', [{ afterBackward: (step) => visits.push(...idsOf(step.inputs.data, step.inputs.shape[1]!)) }]);
    },
  }));
}
