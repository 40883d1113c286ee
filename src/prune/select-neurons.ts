import type { Parameter } from '../nn/parameter.ts';
import type { Scope } from './select.ts';
import type { PruneTarget } from './targets.ts';

/*
 * Which whole neurons (or Conv2d filters) go. Removing a neuron removes its row of weights, its bias and the
 * next layer's inputs it feeds (an input column; for a filter an input channel or its flattened plane), so a neuron plan is measured in the weights it really removes — the row *and* the outgoing
 * column — over all targets: the same fraction `targetsSparsity` (and a run's `sparsity`) reports. Neurons
 * are removed in rank order until one more would overshoot the goal by more than it undershoots it.
 *
 *  - scope 'global': one ranking of scores normalised per layer, Θ̂_j = Θ_j / √(Σ_k Θ_k²) over the layer's
 *    live neurons (Molchanov et al. 2017). Raw scores are not comparable across layers: the mean |w| of a
 *    row scales like 1/√fan-in under He initialisation, so an unnormalised ranking emptied the widest-input
 *    layer first. Note that the l2 normalisation leaves a factor 1/√N_l (a layer of N_l similar neurons
 *    scores about 1/√N_l each), so a wider layer still loses more neurons — the paper's choice, and on a
 *    trained 784-300-100-10 the better one (see the README's method table).
 *  - scope 'layer': every hidden layer loses the same fraction of its neurons (in turn, always the layer
 *    with the smallest fraction removed so far, its lowest-scored neuron), until the goal is reached.
 *
 * Neurons already dead (every weight of the row pruned) rank below everything: masks only shrink.
 */

/** One hidden layer's neurons: a score per neuron (row), −Infinity for a neuron already pruned. */
export interface NeuronScores {
  readonly target: PruneTarget;
  readonly scores: Float64Array;
}

/**
 * Marks the neurons to remove (1 = remove) for each hidden layer in `layers` so that the fraction of the
 * weights of `counted` (all targets) that are pruned reaches `sparsity` (to within half a neuron's weights).
 * `maskOf` gives the masks the plan starts from. Pure: installs nothing.
 */
export function selectNeurons(
  layers: readonly NeuronScores[],
  counted: readonly PruneTarget[],
  sparsity: number,
  scope: Scope,
  maskOf: (p: Parameter) => Uint8Array | null,
): Map<PruneTarget, Uint8Array> {
  const plan = new NeuronPlan(counted, maskOf);
  const removed = new Map(layers.map((l) => [l.target, new Uint8Array(l.scores.length)] as const));
  const goal = Math.round(sparsity * plan.totalWeights);
  const remove = (layer: NeuronScores, unit: number): void => {
    plan.remove(layer.target, unit);
    removed.get(layer.target)![unit] = 1;
  };
  // Dead neurons go first, whatever the goal (their weights are already counted as pruned).
  for (const layer of layers) layer.scores.forEach((s, u) => s === -Infinity && remove(layer, u));
  const fits = (layer: NeuronScores, unit: number): boolean => plan.zeros + plan.cost(layer.target, unit) / 2 <= goal;

  if (scope === 'global') {
    const order: { layer: NeuronScores; unit: number; score: number }[] = [];
    for (const layer of layers) {
      const normalised = normaliseByL2(layer.scores);
      normalised.forEach((score, unit) => score !== -Infinity && order.push({ layer, unit, score }));
    }
    // Array.prototype.sort is stable: ties stay in layer order, then neuron order.
    order.sort((a, b) => a.score - b.score);
    for (const { layer, unit } of order) {
      if (!fits(layer, unit)) break;
      remove(layer, unit);
    }
    return removed;
  }

  const queues = layers.map((layer) => ({
    layer,
    order: [...layer.scores.keys()].filter((u) => layer.scores[u] !== -Infinity).sort((a, b) => layer.scores[a]! - layer.scores[b]! || a - b),
    next: 0,
  }));
  const fraction = (q: (typeof queues)[number]): number => count(removed.get(q.layer.target)!) / q.layer.scores.length;
  for (;;) {
    let pick: (typeof queues)[number] | undefined;
    for (const q of queues) if (q.next < q.order.length && (pick === undefined || fraction(q) < fraction(pick))) pick = q;
    if (pick === undefined) break;
    const unit = pick.order[pick.next]!;
    if (!fits(pick.layer, unit)) break;
    remove(pick.layer, unit);
    pick.next++;
  }
  return removed;
}

/** Each score divided by the l2 norm of the layer's live scores (−Infinity stays). */
function normaliseByL2(scores: Float64Array): Float64Array {
  let sumSq = 0;
  for (const s of scores) if (s !== -Infinity) sumSq += s * s;
  const norm = Math.sqrt(sumSq);
  return norm === 0 ? Float64Array.from(scores) : Float64Array.from(scores, (s) => (s === -Infinity ? s : s / norm));
}

function count(flags: Uint8Array): number {
  let n = 0;
  for (const f of flags) n += f;
  return n;
}

/** Working masks of the counted weights while neurons are removed, and the number of pruned weights. */
class NeuronPlan {
  readonly totalWeights: number;
  zeros = 0;
  private readonly masks = new Map<Parameter, Uint8Array>();

  constructor(counted: readonly PruneTarget[], maskOf: (p: Parameter) => Uint8Array | null) {
    let total = 0;
    for (const t of counted) {
      const p = t.weight;
      const start = maskOf(p);
      const mask = start === null ? new Uint8Array(p.value.size).fill(1) : Uint8Array.from(start);
      this.masks.set(p, mask);
      total += mask.length;
      this.zeros += mask.length - count(mask);
    }
    this.totalWeights = total;
  }

  /** Counted weights still alive that removing neuron `unit` of `target` would prune: its row and outgoing column. */
  cost(target: PruneTarget, unit: number): number {
    return this.visit(target, unit, false);
  }

  remove(target: PruneTarget, unit: number): void {
    this.zeros += this.visit(target, unit, true);
  }

  private visit(target: PruneTarget, unit: number, prune: boolean): number {
    let alive = 0;
    const row = this.masks.get(target.weight);
    if (row !== undefined) {
      const cols = row.length / target.weight.value.shape[0]!;
      for (let i = unit * cols; i < (unit + 1) * cols; i++) {
        alive += row[i]!;
        if (prune) row[i] = 0;
      }
    }
    const next = target.next === null ? undefined : this.masks.get(target.next.weight);
    if (next !== undefined) {
      // The unit's columns in the next layer: an input (Linear), an input channel (Conv2d) or its flattened plane.
      const rows = target.next!.weight.value.shape[0]!;
      const cols = next.length / rows;
      const span = target.nextSpan;
      for (let r = 0; r < rows; r++) {
        for (let i = r * cols + unit * span; i < r * cols + (unit + 1) * span; i++) {
          alive += next[i]!;
          if (prune) next[i] = 0;
        }
      }
    }
    return alive;
  }
}
