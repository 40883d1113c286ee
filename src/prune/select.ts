import { ConfigError } from '../errors.ts';
import { Conv2d } from '../nn/conv.ts';
import type { Parameter } from '../nn/parameter.ts';
import { formatShape } from '../tensor/shape.ts';
import { assertFiniteScores } from './finite.ts';
import { formatGranularity, type Granularity } from './granularity.ts';
import { selectNeurons } from './select-neurons.ts';
import { channelSpan, checkSparsity, weightMatrix, type PruneTarget } from './targets.ts';

/*
 * From importance scores to masks: the one place where "which weights go" is decided.
 *
 * Each target's weights are grouped into units (a weight, a block, a neuron's or filter's row, a kernel, an
 * input channel; see granularity.ts); a unit's score is the
 * mean of its weights' scores. Units already fully pruned rank lowest, so masks only ever shrink. The
 * lowest-ranked units are pruned until the requested fraction of weights is gone: per layer (scope
 * 'layer') or with one ranking across all layers (scope 'global'). Ties break by position, so the result
 * is deterministic. N:M patterns are chosen per group instead (keep the N best of every M). Neurons are
 * counted by every weight they remove, row and outgoing column, and ranked globally on per-layer
 * normalised scores (select-neurons.ts).
 */

/** Where a ranking runs: within each layer ('layer', every layer gets the same sparsity) or across all layers ('global'). */
export type Scope = 'layer' | 'global';
/** The scopes a ranking can run over: each layer on its own, or all layers together. */
export const SCOPES: readonly Scope[] = ['layer', 'global'];

/** How `computeMasks` turns scores into masks. */
export interface SelectOptions {
  /** Target fraction of pruned weights, in [0, 1). Ignored for N:M (the pattern fixes it). */
  sparsity: number;
  scope: Scope;
  granularity: Granularity;
  /**
   * Per-layer *final* sparsities by parameter name; those layers are pruned on their own. Not with N:M (the
   * pattern fixes every layer's sparsity).
   */
  overrides?: Readonly<Record<string, number>>;
  /**
   * Where an overridden layer is at this step, given its final sparsity (default: the override itself).
   * Methods that reach their sparsity in steps pass their schedule, so an overridden layer follows the same
   * curve to its own target (gradual: the cubic curve; iterative: the same fraction of what remains per round).
   */
  overrideAt?: (finalSparsity: number) => number;
  /**
   * The masks the selection starts from, by parameter (default: each parameter's current mask): units pruned
   * there rank lowest and stay pruned. Methods that let pruned weights return (movement pruning) pass the
   * masks from before their run, so the plan may revive weights they pruned themselves.
   */
  previous?: ReadonlyMap<Parameter, Uint8Array | null>;
}

/** New masks for every parameter whose mask changes (weights, and for neurons also biases and next layers). */
export type MaskPlan = Map<Parameter, Uint8Array>;

/** A list of units of one target: which weights each covers, and its score. */
interface Units {
  readonly target: PruneTarget;
  readonly count: number;
  /** Weights per unit (all units of a target have the same size). */
  readonly size: number;
  readonly scores: Float64Array;
  /** Indices into the weight of unit u's members: members[u*size .. (u+1)*size). */
  readonly members: Int32Array;
}

/** 'layer' or 'global'; throws ConfigError listing both for anything else. */
export function parseScope(text: string): Scope {
  if (!(SCOPES as readonly string[]).includes(text)) throw new ConfigError(`unknown scope '${text}' (expected one of ${SCOPES.join(', ')})`);
  return text as Scope;
}

/**
 * New masks for `sparsity` (fraction of weights to prune, in [0, 1)) from one score array per target
 * (same length as its weight, higher = keep), by granularity, scope and per-layer overrides; already
 * pruned units rank lowest, so masks only shrink. Installs nothing (see `applyMaskPlan`). Throws
 * ConfigError for a bad sparsity or override, missing or mis-sized scores, a block that does not divide a
 * weight, an N:M group wider than a row, or neuron pruning without a hidden layer; NonFiniteError for a
 * NaN or infinite score (naming the layer and index).
 *
 * @example
 * ```ts
 * import { applyMaskPlan, computeMasks, findTargets, mlp, targetsSparsity } from 'sparsegrad';
 *
 * const model = mlp([784, 300, 100, 10], { seed: 0 });
 * const targets = findTargets(model);
 * // Any scores will do (higher = keep); here |w|, i.e. magnitude pruning.
 * const scores = new Map(targets.map((t) => [t, Float64Array.from(t.weight.value.data, Math.abs)] as const));
 * const plan = computeMasks(targets, scores, { sparsity: 0.9, scope: 'global', granularity: { kind: 'weight' } });
 * applyMaskPlan(plan);                   // installs the masks and zeroes the pruned weights
 * console.log(targetsSparsity(targets)); // 0.9 (to within one weight)
 * ```
 */
export function computeMasks(targets: readonly PruneTarget[], scores: ReadonlyMap<PruneTarget, Float64Array>, options: SelectOptions): MaskPlan {
  const { granularity, scope } = options;
  const overrides = options.overrides ?? {};
  for (const [name, s] of Object.entries(overrides)) {
    checkSparsity(s, `sparsity override for ${name}`);
    if (!targets.some((t) => t.name === name)) throw new ConfigError(`sparsity override for unknown layer '${name}' (targets: ${targets.map((t) => t.name).join(', ')})`);
  }
  checkSelectionSettings(granularity, scope, overrides);
  if (granularity.kind !== 'nm') checkSparsity(options.sparsity);
  const maskOf = (p: Parameter): Uint8Array | null => (options.previous?.has(p) === true ? (options.previous.get(p) ?? null) : p.mask);
  for (const t of targets) {
    const s = scores.get(t);
    if (s === undefined || s.length !== t.weight.value.size) throw new ConfigError(`no importance scores of the right size for ${t.name}`);
    assertFiniteScores(s, `importance scores of ${t.name}`);
  }

  const plan: MaskPlan = new Map();
  if (granularity.kind === 'nm') {
    for (const t of targets) plan.set(t.weight, nmMask(t, scores.get(t)!, granularity.n, granularity.m, maskOf(t.weight)));
    return plan;
  }

  const eligible = granularity.kind === 'neuron' ? targets.filter((t) => t.next !== null) : [...targets];
  if (eligible.length === 0) throw new ConfigError('neuron pruning needs a hidden layer: the output layer\'s neurons (the classes) cannot be removed');
  const unaligned = granularity.kind === 'neuron' ? eligible.find((t) => t.nextSpan === 0) : undefined;
  if (unaligned !== undefined) {
    throw new ConfigError(`neuron (filter) pruning of ${unaligned.name}: the next layer is a grouped convolution, whose input channels do not map to whole filters; exclude it (--exclude ${unaligned.name.replace(/\.weight$/, '')})`);
  }
  const units = eligible.map((t) => buildUnits(t, scores.get(t)!, granularity, maskOf(t.weight)));
  if (granularity.kind === 'neuron') {
    const removed = selectNeurons(units, targets, options.sparsity, scope, maskOf);
    for (const u of units) applyUnits(u, removed.get(u.target)!, granularity, plan, maskOf);
    return plan;
  }
  const prunedUnits = new Map<PruneTarget, Uint8Array>(units.map((u) => [u.target, new Uint8Array(u.count)]));

  const overrideAt = options.overrideAt ?? ((final: number) => final);
  const overridden = units.filter((u) => u.target.name in overrides);
  const shared = units.filter((u) => !(u.target.name in overrides));
  for (const u of overridden) pruneLowest([u], checkedStep(overrideAt(overrides[u.target.name]!), u.target.name), prunedUnits);
  if (scope === 'layer') for (const u of shared) pruneLowest([u], options.sparsity, prunedUnits);
  else if (shared.length > 0) pruneLowest(shared, options.sparsity, prunedUnits);

  for (const u of units) applyUnits(u, prunedUnits.get(u.target)!, granularity, plan, maskOf);
  return plan;
}

/**
 * Throws ConfigError for settings a granularity cannot honour: N:M is a per-layer rule with a fixed
 * sparsity (no global scope, no overrides); a neuron belongs to two layers (its row and the next layer's
 * column), so per-layer overrides are not well defined. `runPruning` calls it before training starts.
 */
export function checkSelectionSettings(granularity: Granularity, scope: Scope, overrides: Readonly<Record<string, number>> = {}): void {
  const names = Object.keys(overrides);
  if (granularity.kind === 'neuron' && names.length > 0) {
    throw new ConfigError(`per-layer sparsity overrides (${names.join(', ')}) do not apply to neuron pruning: removing a neuron also empties the next layer's input column, so one layer's sparsity is not its own; use exclude, or scope 'layer'`);
  }
  if (granularity.kind !== 'nm') return;
  const pattern = `${granularity.n}:${granularity.m}`;
  if (scope !== 'layer') throw new ConfigError(`${pattern} keeps ${granularity.n} of every ${granularity.m} inputs within each row, which is a per-layer rule: use scope 'layer' (got '${scope}')`);
  if (names.length > 0) {
    throw new ConfigError(`${pattern} fixes every layer's sparsity at ${(100 * (1 - granularity.n / granularity.m)).toFixed(2)}%, so per-layer sparsity overrides (${names.join(', ')}) cannot apply; use exclude to leave a layer dense`);
  }
}

/** An overridden layer's sparsity at this step, as the method's schedule gives it. */
function checkedStep(sparsity: number, name: string): number {
  checkSparsity(sparsity, `scheduled sparsity of ${name}`);
  return sparsity;
}

/**
 * Groups a target's weights into units (see Granularity) and scores each unit by the mean score of its members.
 * Throws ConfigError for a block that does not divide the weight matrix, or channel pruning of a grouped Conv2d.
 */
function buildUnits(target: PruneTarget, scores: Float64Array, g: Granularity, mask: Uint8Array | null): Units {
  const [rows, cols] = weightMatrix(target);
  let count: number;
  let size: number;
  let members: Int32Array;
  if (g.kind === 'channel') {
    if (target.layer instanceof Conv2d && target.layer.groups !== 1) {
      throw new ConfigError(`channel pruning of ${target.name}: a grouped convolution's input channels do not reach every filter; exclude it (--exclude ${target.name.replace(/\.weight$/, '')})`);
    }
    // Input channel c: the columns [c·span, (c+1)·span) of every row (span = kh·kw, 1 for Linear).
    const span = channelSpan(target);
    count = cols / span;
    size = rows * span;
    members = new Int32Array(count * size);
    let k = 0;
    for (let c = 0; c < count; c++) for (let r = 0; r < rows; r++) for (let j = 0; j < span; j++) members[k++] = r * cols + c * span + j;
  } else {
    // Rectangular tiles of the matrix: 1×1 weights, whole rows (neurons, filters), 1×(kh·kw) kernels, R×C blocks.
    let unitRows = 1;
    let unitCols = 1;
    if (g.kind === 'neuron') unitCols = cols;
    if (g.kind === 'kernel') unitCols = channelSpan(target);
    if (g.kind === 'block') {
      unitRows = g.rows;
      unitCols = g.cols;
      if (rows % unitRows !== 0 || cols % unitCols !== 0) {
        throw new ConfigError(`block ${formatGranularity(g)} does not divide ${target.name} of shape ${formatShape([rows, cols])}; exclude that layer (e.g. --exclude ${target.name}) or pick another block`);
      }
    }
    const blocksPerRow = cols / unitCols;
    count = (rows / unitRows) * blocksPerRow;
    size = unitRows * unitCols;
    members = new Int32Array(count * size);
    for (let u = 0, k = 0; u < count; u++) {
      const r0 = Math.floor(u / blocksPerRow) * unitRows;
      const c0 = (u % blocksPerRow) * unitCols;
      for (let r = r0; r < r0 + unitRows; r++) for (let c = c0; c < c0 + unitCols; c++) members[k++] = r * cols + c;
    }
  }
  const unitScores = new Float64Array(count);
  for (let u = 0; u < count; u++) {
    let sum = 0;
    let alive = 0;
    for (let k = u * size; k < (u + 1) * size; k++) {
      const i = members[k]!;
      sum += scores[i]!;
      if (mask === null || mask[i] === 1) alive++;
    }
    // A unit whose weights are all pruned already ranks below everything: masks only shrink.
    unitScores[u] = alive === 0 ? -Infinity : sum / size;
  }
  return { target, count, size, scores: unitScores, members };
}

/**
 * Marks the lowest-scoring units of `groups` (ranked together) as pruned until round(sparsity × weights)
 * weights are pruned. With equal unit sizes this is exact to one unit.
 */
function pruneLowest(groups: readonly Units[], sparsity: number, pruned: Map<PruneTarget, Uint8Array>): void {
  let totalUnits = 0;
  let totalWeights = 0;
  for (const g of groups) {
    totalUnits += g.count;
    totalWeights += g.count * g.size;
  }
  const goal = Math.round(sparsity * totalWeights);
  const owner = new Int32Array(totalUnits);
  const local = new Int32Array(totalUnits);
  const score = new Float64Array(totalUnits);
  let k = 0;
  groups.forEach((g, gi) => {
    for (let u = 0; u < g.count; u++, k++) {
      owner[k] = gi;
      local[k] = u;
      score[k] = g.scores[u]!;
    }
  });
  const order = new Int32Array(totalUnits);
  for (let i = 0; i < totalUnits; i++) order[i] = i;
  order.sort((a, b) => score[a]! - score[b]! || a - b);
  let removed = 0;
  for (let r = 0; r < totalUnits; r++) {
    const i = order[r]!;
    const g = groups[owner[i]!]!;
    // Units already fully pruned are counted whatever the goal; others only while short of it.
    if (score[i] !== -Infinity && removed + g.size / 2 > goal) break;
    pruned.get(g.target)![local[i]!] = 1;
    removed += g.size;
  }
}

/** Turns pruned units into masks (AND-ed with existing masks), including a neuron's bias and next layer. */
function applyUnits(units: Units, pruned: Uint8Array, g: Granularity, plan: MaskPlan, maskOf: (p: Parameter) => Uint8Array | null): void {
  const { target } = units;
  const weightMask = startMask(plan, target.weight, maskOf);
  for (let u = 0; u < units.count; u++) {
    if (pruned[u] === 0) continue;
    for (let k = u * units.size; k < (u + 1) * units.size; k++) weightMask[units.members[k]!] = 0;
  }
  if (g.kind !== 'neuron') return;
  const bias = target.layer.bias;
  const biasMask = bias === null ? null : startMask(plan, bias, maskOf);
  const next = target.next!;
  const nextMask = startMask(plan, next.weight, maskOf);
  const nextRows = next.weight.value.shape[0]!;
  const nextCols = next.weight.value.size / nextRows;
  const span = target.nextSpan;
  for (let u = 0; u < units.count; u++) {
    if (pruned[u] === 0) continue;
    if (biasMask !== null) biasMask[u] = 0;
    // The dead unit's outgoing weights: its columns (an input, an input channel, its flattened plane) in every row.
    for (let r = 0; r < nextRows; r++) nextMask.fill(0, r * nextCols + u * span, r * nextCols + (u + 1) * span);
  }
}

/** The mask being built for `p` in this plan, starting from its previous mask (or all ones). */
function startMask(plan: MaskPlan, p: Parameter, maskOf: (p: Parameter) => Uint8Array | null): Uint8Array {
  let m = plan.get(p);
  if (m === undefined) {
    const previous = maskOf(p);
    m = previous === null ? new Uint8Array(p.value.size).fill(1) : Uint8Array.from(previous);
    plan.set(p, m);
  }
  return m;
}

/**
 * N:M: in every group of m consecutive inputs of each row keep the n best (already-pruned ones rank lowest). For
 * Conv2d the inputs of a group are m consecutive input channels at one kernel position (stride kh·kw in the row).
 */
function nmMask(target: PruneTarget, scores: Float64Array, n: number, m: number, previous: Uint8Array | null): Uint8Array {
  const [rows, cols] = weightMatrix(target);
  const span = channelSpan(target);
  const inputs = cols / span; // input channels (per group) of a Conv2d, inputs of a Linear
  if (inputs % m !== 0) {
    const what = span === 1 ? `the input width of ${target.name} (${inputs})` : `the input channels per group of ${target.name} (${inputs})`;
    throw new ConfigError(`${n}:${m} pruning needs ${what} to be a multiple of ${m}`);
  }
  const mask = new Uint8Array(rows * cols);
  const order = new Int32Array(m);
  const groupScore = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < inputs; c0 += m) {
      for (let at = 0; at < span; at++) {
        const base = r * cols + c0 * span + at;
        for (let j = 0; j < m; j++) {
          order[j] = j;
          const i = base + j * span;
          groupScore[j] = previous !== null && previous[i] === 0 ? -Infinity : scores[i]!;
        }
        order.sort((a, b) => groupScore[b]! - groupScore[a]! || a - b);
        for (let j = 0; j < n; j++) {
          const keep = order[j]!;
          if (groupScore[keep] !== -Infinity) mask[base + keep * span] = 1;
        }
      }
    }
  }
  return mask;
}

/** Installs a plan's masks (zeroing the pruned weights). Masks only shrink unless `allowRegrow`. */
export function applyMaskPlan(plan: MaskPlan, options: { allowRegrow?: boolean } = {}): void {
  for (const [p, mask] of plan) p.setMask(mask, options);
}
