/**
 * Parallel, resumable studies (src/node/study-pool.ts, src/node/run-journal.ts): the same results with any
 * number of worker threads; a worker that throws or dies ends the study with a clear error, never a hang;
 * finished runs are journaled as they end and a resumed study runs only what is missing.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { holdoutSplit } from '../../src/data/split.ts';
import { ConfigError, DataFormatError, OutputPathError } from '../../src/errors.ts';
import { RunJournal } from '../../src/node/run-journal.ts';
import { runStudyTasks, StudyWorkerError } from '../../src/node/study-pool.ts';
import type { PruneConfig } from '../../src/prune/index.ts';
import { planComparison } from '../../src/study/compare.ts';
import { modelState } from '../../src/study/model-state.ts';
import { holdoutRecord, type TrainingRecipe } from '../../src/study/recipe.ts';
import { planSweep } from '../../src/study/sweep.ts';
import type { StudySetup, StudyTask, TaskResult } from '../../src/study/tasks.ts';
import { crossValidation, holdoutValidation } from '../../src/study/validation.ts';
import { registerTestMethods } from '../fixtures/study-worker-setup.ts';
import { toyTest, toyTrain, trainedToyModel } from '../prune/helpers.ts';

registerTestMethods(); // in this thread; workers get them from the setup module
const SETUP_MODULE = pathToFileURL(join(import.meta.dirname, '../fixtures/study-worker-setup.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = modelState(trainedToyModel());
const holdout = holdoutValidation(toyTrain, holdoutRecord(toyTrain, 'toy', 0.2, 4, holdoutSplit(toyTrain, 0.2, 4)));
const recipe: TrainingRecipe = { init: 'he', epochs: 2, batchSize: 32, lr: 0.01, optimizer: 'adam', schedule: 'constant', seed: 1, backend: 'wasm-simd' };
const setup = (plan = holdout): StudySetup => ({ model, train: toyTrain, test: toyTest, plan, backend: 'wasm-simd' });
const base = { scope: 'global' as const, granularity: { kind: 'weight' as const }, epochs: 1, batchSize: 32, lr: 0.005, seed: 3 };
const grid = planComparison(holdout, { methods: ['oneshot', 'threshold'], criteria: ['magnitude', 'taylor'], sparsities: [0.5, 0.9], base });

/** Results without their wall-clock times, in task order. */
const comparable = (tasks: readonly StudyTask[], results: ReadonlyMap<string, TaskResult>): unknown[] =>
  tasks.map((t) => {
    const { seconds: _seconds, ...rest } = results.get(t.key)! as TaskResult & { seconds: number };
    return rest;
  });

describe('runStudyTasks', () => {
  it('gives the same results with 2 worker threads as in this thread (holdout grid, and cv with retrained folds)', async () => {
    const inline = await runStudyTasks(setup(), grid.tasks, { jobs: 1 });
    const parallel = await runStudyTasks(setup(), grid.tasks, { jobs: 2 });
    expect(comparable(grid.tasks, parallel)).toEqual(comparable(grid.tasks, inline));

    const cv = crossValidation(toyTrain, 3, 2, recipe);
    const sweep = planSweep(cv, { ...base, method: 'oneshot', sparsity: 0.5 }, { values: [0.5, 0.8] }, { kind: 'sparsest', tolerance: 0.02 });
    const one = await runStudyTasks(setup(cv), sweep.tasks, { jobs: 1 });
    const two = await runStudyTasks(setup(cv), sweep.tasks, { jobs: 2 });
    expect(comparable(sweep.tasks, two).map((r) => ({ ...(r as object), model: undefined }))).toEqual(comparable(sweep.tasks, one).map((r) => ({ ...(r as object), model: undefined })));
    expect(sweep.assemble(two).rows[0]!.foldAccuracies).toHaveLength(3);
  }, 120_000);

  it('runs a custom method in the workers when a setup module registers it there', async () => {
    const custom = planComparison(holdout, { methods: ['custom-oneshot'], criteria: ['magnitude'], sparsities: [0.5, 0.8], base });
    const inline = await runStudyTasks(setup(), custom.tasks, { jobs: 1 });
    const parallel = await runStudyTasks(setup(), custom.tasks, { jobs: 2, setupModules: [SETUP_MODULE] });
    expect(comparable(custom.tasks, parallel)).toEqual(comparable(custom.tasks, inline));
  }, 60_000);

  it('ends with the error a task threw in a worker, naming the run, as the same error class', async () => {
    const unknown = planComparison(holdout, { methods: ['custom-oneshot'], criteria: ['magnitude'], sparsities: [0.5, 0.8], base });
    // Registered here but not in the workers (no setup module): the worker throws ConfigError.
    await expect(runStudyTasks(setup(), unknown.tasks, { jobs: 2 })).rejects.toThrow(ConfigError);
    await expect(runStudyTasks(setup(), unknown.tasks, { jobs: 2 })).rejects.toThrow(/custom-oneshot\/magnitude@0\.\d: unknown method 'custom-oneshot'/);
    const throwing = trialTasks(['throw-probe', 'oneshot']);
    await expect(runStudyTasks(setup(), throwing, { jobs: 2, setupModules: [SETUP_MODULE] })).rejects.toThrow(/throw-probe@0.5: the probe method failed on purpose \(Error in a study worker\)/);
  }, 60_000);

  it('ends with an error, not a hang, when a worker dies mid-run', async () => {
    const dying = trialTasks(['exit-probe', 'oneshot']);
    const failure = runStudyTasks(setup(), dying, { jobs: 2, setupModules: [SETUP_MODULE] });
    await expect(failure).rejects.toThrow(StudyWorkerError);
    await expect(runStudyTasks(setup(), dying, { jobs: 2, setupModules: [SETUP_MODULE] })).rejects.toThrow(/a study worker exited \(code 7\) while running exit-probe@0.5/);
  }, 60_000);

  it('names the run in the error of a task run in this thread too', async () => {
    await expect(runStudyTasks(setup(), trialTasks(['throw-probe']), { jobs: 1 })).rejects.toThrow(/^throw-probe@0.5: the probe method failed on purpose$/);
  });

  it('refuses jobs that are not a positive integer', async () => {
    for (const jobs of [0, -1, 1.5, Number.NaN]) await expect(runStudyTasks(setup(), grid.tasks, { jobs })).rejects.toThrow(/jobs must be a positive integer/);
  });
});

describe('run journal', () => {
  const identity = { command: 'test', model: 'm', n: 1 };

  it('journals each run as it ends; a resumed study runs only the missing ones and gives the same results', async () => {
    const path = join(dir, 'grid.runs.ndjson');
    const full = RunJournal.open(path, identity, { resume: false });
    const all = await runStudyTasks(setup(), grid.tasks, { jobs: 1, journal: full });
    full.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(grid.tasks.length + 2); // header, one line per task, final newline
    // Interrupted after three runs, in the middle of writing the fourth.
    writeFileSync(path, lines.slice(0, 4).join('\n') + '\n' + lines[4]!.slice(0, 40));
    const journal = RunJournal.open(path, identity, { resume: true });
    expect(journal.results.size).toBe(3);
    const ran: string[] = [];
    let resumed = 0;
    const again = await runStudyTasks(setup(), grid.tasks, { jobs: 2, journal, onStart: (t) => ran.push(t.key), onResult: (_t, _r, fromJournal) => (resumed += fromJournal ? 1 : 0) });
    journal.close();
    expect(resumed).toBe(3);
    expect(ran.sort()).toEqual(grid.tasks.map((t) => t.key).filter((k) => !journal.results.has(k)).sort());
    expect(ran).toHaveLength(grid.tasks.length - 3);
    expect(comparable(grid.tasks, again)).toEqual(comparable(grid.tasks, all));
    const reread = RunJournal.open(path, identity, { resume: true });
    expect(reread.results.size).toBe(grid.tasks.length); // the cut line was dropped, every run is there once
    reread.close();
  }, 60_000);

  it('refuses to overwrite a journal without resume, a journal of another study, and a corrupt one', () => {
    const path = join(dir, 'other.runs.ndjson');
    RunJournal.open(path, identity, { resume: false }).close();
    appendFileSync(path, '{"key":"dense|fold=0","result":{"key":"dense|fold=0","kind":"dense","seconds":0,"validation":{"accuracy":0.5,"loss":1}}}\n');
    expect(() => RunJournal.open(path, identity, { resume: false })).toThrow(OutputPathError);
    expect(() => RunJournal.check(path, { resume: false })).toThrow(/pass --resume to continue it/);
    expect(() => RunJournal.open(path, { ...identity, model: 'other' }, { resume: true })).toThrow(/belongs to another study/);
    appendFileSync(path, 'not json\n{"key":"x","result":{"key":"x","kind":"dense","seconds":0,"validation":{"accuracy":0.5,"loss":1}}}\n');
    expect(() => RunJournal.open(path, identity, { resume: true })).toThrow(DataFormatError);
    const fresh = RunJournal.open(join(dir, 'missing.ndjson'), identity, { resume: true });
    expect(fresh.results.size).toBe(0);
    fresh.close();
  });
});

/** One trial per method at sparsity 0.5, on the holdout fold. */
function trialTasks(methods: readonly string[]): StudyTask[] {
  return methods.map((method) => {
    const config: PruneConfig = { ...base, method, criterion: 'magnitude', sparsity: 0.5 };
    return { kind: 'trial', key: `trial|${method}`, label: `${method}@0.5`, fold: 0, config, calibrate: false, validation: true, test: false };
  });
}
