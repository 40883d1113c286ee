/** The method and criterion registries: what a user outside the package can add, and how mistakes are reported. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { cloneModel, mlp } from '../../src/nn/index.ts';
import {
  applyMaskPlan, criteria, definePruningMethod, findTargets, pruningMethod, pruningMethods, registerCriterion, registerPruningMethod, runPruning,
  type PruneConfig,
} from '../../src/prune/index.ts';
import { toyConfig, toyData, toyTrain, trainedToyModel } from './helpers.ts';

const dense = trainedToyModel();

/** A user method: prunes the lowest-scored `keepFraction` complement in `steps` equal steps, no training. */
const stepwise = definePruningMethod<{ steps: number; verbose: boolean; mode: string | undefined }>({
  name: 'test-stepwise',
  summary: 'prune in equal steps without training',
  paper: '',
  options: {
    steps: { type: 'integer', min: 1, max: 10, default: 2, help: 'number of pruning steps' },
    verbose: { type: 'boolean', default: false, help: 'a note per step' },
    mode: { type: 'choice', choices: ['fast', 'slow'], help: 'unused, for validation' },
  },
  usesCriterion: true,
  run(ctx, { steps, verbose }) {
    for (let s = 1; s <= steps; s++) {
      const plan = ctx.select(ctx.scores(), (ctx.sparsity * s) / steps);
      applyMaskPlan(plan);
      if (verbose) ctx.note(`step ${s}: ${ctx.currentSparsity().toFixed(3)}`);
    }
  },
});
registerPruningMethod(stepwise);

describe('the method registry', () => {
  it('lists the built-ins in order, then user methods', () => {
    expect(pruningMethods().map((m) => m.name)).toEqual(['oneshot', 'iterative', 'gradual', 'snip', 'threshold', 'threshold-dynamic', 'topk', 'l1', 'dns', 'dns-scheduled', 'rigl', 'test-stepwise']);
    expect(pruningMethod('test-stepwise')).toBe(stepwise);
  });

  it('names every registered method when a name is unknown', () => {
    expect(() => pruningMethod('lottery')).toThrow(new ConfigError("unknown method 'lottery' (expected one of oneshot, iterative, gradual, snip, threshold, threshold-dynamic, topk, l1, dns, dns-scheduled, rigl, test-stepwise)"));
    expect(() => runPruning(mlp([4, 3, 2]), { train: toyData(20, 4, 2, 0) }, toyConfig('lottery'))).toThrow(/unknown method 'lottery' \(expected one of oneshot,.* test-stepwise\)/);
  });

  it('refuses a duplicate name, a malformed name and an incomplete declaration', () => {
    expect(() => registerPruningMethod({ ...stepwise })).toThrow(/a pruning method named 'test-stepwise' is already registered/);
    expect(() => registerPruningMethod({ ...pruningMethod('gradual'), name: 'gradual' })).toThrow(/already registered/);
    expect(() => registerPruningMethod({ ...stepwise, name: 'Bad Name' })).toThrow(/method name must be lower-case letters, digits and dashes, got 'Bad Name'/);
    expect(() => registerPruningMethod({ ...stepwise, name: 'test-no-run', run: undefined as never })).toThrow(/needs a run\(ctx, options\) function/);
    expect(() => registerPruningMethod({ ...stepwise, name: 'test-no-summary', summary: '' })).toThrow(/needs a one-line summary/);
    expect(pruningMethods().map((m) => m.name)).not.toContain('test-no-run');
  });

  it('refuses bad option specs when a method is registered', () => {
    const withOption = (name: string, options: object) => () => registerPruningMethod({ ...stepwise, name, options } as never);
    expect(withOption('test-bad-default', { f: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 2, help: 'x' } })).toThrow(
      /method 'test-bad-default', option 'f': the default 2 must be a number in \(0, 1\]/,
    );
    expect(withOption('test-bad-type', { f: { type: 'float', help: 'x' } })).toThrow(/option 'f': type must be number, integer, boolean or choice/);
    expect(withOption('test-no-help', { f: { type: 'number' } })).toThrow(/option 'f': needs a one-line help text/);
    expect(withOption('test-reserved', { epochs: { type: 'integer', help: 'x' } })).toThrow(/'epochs' is a common pruning setting, not a method option/);
    expect(withOption('test-flag-clash', { threshold: { type: 'boolean', help: 'x' } })).toThrow(/flag --threshold has type boolean here but type number in method 'threshold'/);
    expect(withOption('test-empty-choice', { f: { type: 'choice', choices: [], help: 'x' } })).toThrow(/a choice needs a non-empty list of choices/);
  });

  it("validates a user method's options: defaults, types, ranges, choices and unknown names", () => {
    const run = (options?: PruneConfig['options']) => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('test-stepwise', { epochs: 0, ...(options === undefined ? {} : { options }) }));
    const result = run({ steps: 4, verbose: true });
    expect(result.notes).toEqual(['step 1: 0.200', 'step 2: 0.400', 'step 3: 0.600', 'step 4: 0.800']);
    expect(run().notes).toEqual([]); // verbose defaults to false, steps to 2
    expect(run().sparsity).toBeCloseTo(0.8, 2);
    expect(() => run({ steps: 11 })).toThrow(new ConfigError("method 'test-stepwise': option 'steps' must be an integer in [1, 10], got 11"));
    expect(() => run({ steps: 1.5 })).toThrow(/option 'steps' must be an integer in \[1, 10\], got 1.5/);
    expect(() => run({ verbose: 'yes' })).toThrow(/option 'verbose' must be true or false, got "yes"/);
    expect(() => run({ mode: 'medium' })).toThrow(/option 'mode' must be one of fast, slow, got "medium"/);
    expect(() => run({ rounds: 3 })).toThrow(/method 'test-stepwise' has no option 'rounds' \(its options: steps, verbose, mode\)/);
    expect(() => run([] as never)).toThrow(/options of method 'test-stepwise' must be an object/);
  });

  it("refuses a method's option given as a top-level setting, saying where it belongs", () => {
    const config = { ...toyConfig('iterative', { epochs: 0 }), rounds: 2 } as PruneConfig;
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, config)).toThrow(/unknown pruning setting 'rounds'; it is an option of method 'iterative': pass it as options: \{ rounds: \.\.\. \}/);
    const other = { ...toyConfig('oneshot', { epochs: 0 }), frobnicate: 1 } as PruneConfig;
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, other)).toThrow(/unknown pruning setting 'frobnicate' \(settings: method, criterion/);
  });

  it('checks structured granularities and epochs against what the method declares', () => {
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('test-stepwise', { granularity: { kind: 'neuron' } }))).toThrow(
      /granularity neuron is supported by the oneshot, iterative, gradual methods, not 'test-stepwise'/,
    );
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('rigl', { epochs: 0 }))).toThrow(/method 'rigl' prunes while training, so it needs at least one epoch/);
  });
});

describe('the criterion registry', () => {
  registerCriterion({
    name: 'test-anti-magnitude', summary: '−|w|: prunes the largest weights', needsGradients: false,
    score: (target) => Float64Array.from(target.weight.value.data, (w) => -Math.abs(w)),
  });
  let statsBatches = -1;
  registerCriterion({
    name: 'test-grad-times-w', summary: '|w|·mean|g|', needsGradients: true,
    score: (target, { stats }) => {
      statsBatches = stats!.batches;
      const w = target.weight.value.data;
      return Float64Array.from(stats!.sum('absGrad', target.weight), (g, i) => (Math.abs(w[i]!) * g) / stats!.batches);
    },
  });

  it('lists user criteria after the built-ins', () => {
    expect(criteria().map((c) => c.name).slice(-2)).toEqual(['test-anti-magnitude', 'test-grad-times-w']);
  });

  it('a user criterion ranks the weights of a built-in method (oneshot)', () => {
    const result = runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('oneshot', { criterion: 'test-anti-magnitude', scope: 'layer', sparsity: 0.5, epochs: 0 }));
    for (const t of findTargets(result.model)) {
      const w = t.weight.value.data;
      const original = findTargets(dense).find((d) => d.name === t.name)!.weight.value.data;
      let largestKept = 0;
      let smallestPruned = Infinity;
      t.weight.mask!.forEach((m, i) => {
        if (m === 1) largestKept = Math.max(largestKept, Math.abs(w[i]!));
        else smallestPruned = Math.min(smallestPruned, Math.abs(original[i]!));
      });
      expect(largestKept).toBeLessThanOrEqual(smallestPruned); // the largest half went
    }
  });

  it('a user criterion that needs gradients gets the statistics of a gradient pass', () => {
    const result = runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('oneshot', { criterion: 'test-grad-times-w', gradientBatches: 3, epochs: 0 }));
    expect(statsBatches).toBe(3);
    expect(result.sparsity).toBeCloseTo(0.8, 2);
  });

  it('refuses duplicates, malformed names, missing declarations and scores of the wrong size', () => {
    expect(() => registerCriterion({ name: 'taylor', summary: 'x', needsGradients: false, score: () => new Float64Array(0) })).toThrow(/a criterion named 'taylor' is already registered/);
    expect(() => registerCriterion({ name: 'Bad', summary: 'x', needsGradients: false, score: () => new Float64Array(0) })).toThrow(/criterion name must be lower-case/);
    expect(() => registerCriterion({ name: 'test-undeclared', summary: 'x', score: () => new Float64Array(0) } as never)).toThrow(/must say whether it needs gradient statistics/);
    registerCriterion({ name: 'test-short', summary: 'too few scores', needsGradients: false, score: () => new Float64Array(3) });
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('oneshot', { criterion: 'test-short', epochs: 0 }))).toThrow(
      /criterion 'test-short' returned 3 scores for layers.0.weight, which has 576 weights/,
    );
    expect(() => runPruning(cloneModel(dense), { train: toyTrain }, toyConfig('oneshot', { criterion: 'hessian', epochs: 0 }))).toThrow(/unknown criterion 'hessian' \(expected one of magnitude,.*test-short\)/);
  });
});
