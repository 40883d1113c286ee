/**
 * The acceptance of honest validation (issue 16): the samples a study validates on are never trained on —
 * not by the dense model, not by any candidate's run — for the holdout, directory and cross-validation
 * paths. The instrument: every sample carries its id (helpers.ts), and training steps record the ids of
 * their batches (a fit hook, and the 'visit-probe' pruning method for the study's runs).
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset.ts';
import { ConfigError } from '../../src/errors.ts';
import { mlpSpec } from '../../src/nn/build.ts';
import { Adam, fit, mlp } from '../../src/nn/index.ts';
import type { PruneConfig } from '../../src/prune/index.ts';
import { modelState } from '../../src/study/model-state.ts';
import { holdoutRecord, readHoldoutRecord, readTrainingRecipe, rebuildHoldout, trainWithRecipe, type TrainingRecipe } from '../../src/study/recipe.ts';
import { planSweep, sweepPruning } from '../../src/study/sweep.ts';
import { StudyRunner } from '../../src/study/tasks.ts';
import { crossValidation, directoryValidation, holdoutValidation } from '../../src/study/validation.ts';
import { idsOf, registerVisitProbe, taggedData, takeVisits } from './helpers.ts';

registerVisitProbe();
const train = taggedData(600, 1, 0, 'tagged/train'); // ids 0..599 = indices
const spec = mlpSpec([12, 24, 3]);
const recipe: TrainingRecipe = { init: 'he', epochs: 2, batchSize: 32, lr: 0.01, optimizer: 'adam', schedule: 'constant', seed: 1, backend: 'js' };
const probe: PruneConfig = { method: 'visit-probe', criterion: 'magnitude', sparsity: 0.5, scope: 'global', granularity: { kind: 'weight' }, epochs: 2, batchSize: 32, lr: 0.005, seed: 3 };
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const sorted = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => a - b);

describe('fit with a holdout', () => {
  it('visits every training sample and never a held-out one', () => {
    const visited = new Set<number>();
    const model = mlp([12, 24, 3], { seed: 1 });
    const history = fit(model, train, {
      epochs: 2, batchSize: 32, optimizer: new Adam(model.parameters(), { lr: 0.01 }), seed: 1, holdout: { fraction: 0.2, seed: 3 },
      hooks: { afterBackward: (step) => idsOf(step.inputs.data, 12).forEach((id) => visited.add(id)) },
    });
    const heldOut = Array.from(history.holdout!.validationIndices);
    expect(heldOut).toHaveLength(120);
    expect(heldOut.filter((i) => visited.has(i))).toEqual([]);
    expect(sorted([...visited, ...heldOut])).toEqual(range(0, 600));
    expect(idsOf(history.holdout!.validation.x, 12)).toEqual(heldOut);
    expect(history.epochs[1]!.validation).toBeDefined(); // the holdout is the per-epoch validation set
  });
});

describe('the study paths never train on what they validate on', () => {
  it('holdout: the model file records how to rebuild exactly the samples fit held out; candidates train on the rest', () => {
    const { model, history } = trainWithRecipe(spec, recipe, train, { holdout: { fraction: 0.2, seed: 3 } });
    const record = holdoutRecord(train, 'tagged', 0.2, 3, history.holdout!);
    const plan = holdoutValidation(train, record);
    expect(Array.from(plan.folds[0]!.validationIndices!)).toEqual(Array.from(history.holdout!.validationIndices));
    takeVisits();
    const sweep = sweepPruning(model, train, plan, probe, { values: [0.3, 0.6], tolerance: 0.5 });
    const visited = takeVisits();
    const heldOut = Array.from(history.holdout!.validationIndices);
    expect(heldOut.filter((i) => visited.has(i))).toEqual([]);
    expect(sorted(visited)).toEqual(Array.from(history.holdout!.trainIndices));
    expect(sweep.validation).toMatchObject({ source: 'holdout', folds: 1, validationSamples: [120] });
    expect(sweep.baseline).toBeLessThan(1);
  });

  it('holdout: other data (one pixel changed) is refused, not silently re-split', () => {
    const { history } = trainWithRecipe(spec, recipe, train, { holdout: { fraction: 0.2, seed: 3 } });
    const record = holdoutRecord(train, 'tagged', 0.2, 3, history.holdout!);
    const changed = { ...train, x: Float32Array.from(train.x) };
    changed.x[5] = 0.123;
    expect(() => rebuildHoldout(changed, record)).toThrow(/the model's holdout was drawn from tagged\/train .* pass the data the model was trained on/);
  });

  it('directory: candidates train on what the model was trained on, never on the validation samples', () => {
    const validation = taggedData(150, 3, 5000, 'tagged/validation');
    const { model, history } = trainWithRecipe(spec, recipe, train, { holdout: { fraction: 0.2, seed: 3 } });
    const plan = directoryValidation(train, validation, history.holdout!.trainIndices);
    takeVisits();
    sweepPruning(model, train, plan, probe, { values: [0.5], tolerance: 0.5 });
    const visited = takeVisits();
    expect(sorted(visited)).toEqual(Array.from(history.holdout!.trainIndices));
    expect(range(5000, 5150).filter((id) => visited.has(id))).toEqual([]);
    // Validation data that is (mostly) training data is refused.
    expect(() => directoryValidation(train, subset(train, range(0, 50), 'copy'))).toThrow(/50 of the 50 validation samples in copy also occur in the training data/);
  });

  it('cv: each fold retrains the dense model on its K−1 parts only, and its candidates train on them only', () => {
    const plan = crossValidation(train, 3, 5, recipe);
    const given = trainWithRecipe(spec, recipe, train).model;
    const study = planSweep(plan, probe, { values: [0.4] }, { kind: 'sparsest', tolerance: 0.5 });
    const runner = new StudyRunner({ model: modelState(given), train, test: null, plan, backend: 'js' });
    for (const task of study.tasks.filter((t) => t.kind === 'dense')) runner.run(task);
    plan.folds.forEach((fold, f) => {
      // The fold's dense model is exactly the recipe trained on the fold's training part (and not the given model).
      const expected = modelState(trainWithRecipe(spec, recipe, subset(train, fold.trainIndices)).model);
      const dense = (runner as unknown as { denseModels: Map<number, ReturnType<typeof modelState>> }).denseModels.get(f)!;
      expect(dense.params.map((p) => Array.from(p.data))).toEqual(expected.params.map((p) => Array.from(p.data)));
      expect(dense.params[0]!.data).not.toEqual(modelState(given).params[0]!.data);
      takeVisits();
      for (const task of study.tasks.filter((t) => t.kind === 'trial' && t.fold === f)) runner.run(task);
      const visited = takeVisits();
      expect(sorted(visited)).toEqual(Array.from(fold.trainIndices));
      expect(Array.from(fold.validationIndices!).filter((i) => visited.has(i))).toEqual([]);
    });
    expect(sorted(plan.folds.flatMap((f) => Array.from(f.validationIndices!)))).toEqual(range(0, 600));
  });

  it('cv needs a recorded recipe, and K ≥ 2', () => {
    expect(() => crossValidation(train, 1, 0, recipe)).toThrow(ConfigError);
    expect(() => readTrainingRecipe({ command: 'train', epochs: 20 })).toThrow(/does not record its training recipe/);
    expect(() => readTrainingRecipe({ recipe: { ...recipe, optimizer: 'lbfgs' } })).toThrow(/training.recipe.optimizer must be one of adam, adamw, sgd, got "lbfgs"/);
    expect(readTrainingRecipe({ recipe })).toEqual(recipe);
  });

  it('reads a holdout record back, and refuses a malformed one', () => {
    const { history } = trainWithRecipe(spec, recipe, train, { holdout: { fraction: 0.2, seed: 3 } });
    const record = holdoutRecord(train, 'tagged', 0.2, 3, history.holdout!);
    expect(readHoldoutRecord({ holdout: JSON.parse(JSON.stringify(record)) })).toEqual(record);
    expect(readHoldoutRecord({ command: 'train' })).toBeNull();
    expect(() => readHoldoutRecord({ holdout: { ...record, fraction: 1 } })).toThrow(/training.holdout.fraction must be a number in \(0, 1\)/);
    expect(() => readHoldoutRecord({ holdout: { ...record, data: { ...record.data, checksum: '' } } })).toThrow(/training.holdout.data.checksum must be a non-empty string/);
  });
});
