import { cloneModel } from '../../nn/clone.ts';
import { evaluate } from '../../nn/train.ts';
import { writeFileAtomically } from '../../node/files.ts';
import { runStudyTasks } from '../../node/study-pool.ts';
import { pruningMethod, runPruning } from '../../prune/index.ts';
import { modelState } from '../../study/model-state.ts';
import { readHoldoutRecord } from '../../study/recipe.ts';
import { planSweep, type SweepObjective } from '../../study/sweep.ts';
import { sweepChart } from '../../study/sweep-chart.ts';
import { storedBytes } from '../../study/tasks.ts';
import { withBackend } from '../../tensor/backend.ts';
import { withThreads } from '../../tensor/threads.ts';
import { numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError, type OptionSpec } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, parseEncoding, saveModelTo, threadsFlag, threadsHelp, threadsPerJob, trainingBackend, trainingBackendHelp } from '../common.ts';
import { methodFlagSpecs, methodOptionsFromFlags } from '../method-flags.ts';
import { createOutput, kib, percent, table } from '../output.ts';
import {
  finalTrainingData, JOB_FLAGS, sweepSummary, jobsFlag, jobsHelp, journalFlag, journalPathFor, loadModelWithTraining, noteValidation, noValidationError, openJournal, studyIdentity,
  validationHelp, validationPlanFromFlags, VALIDATION_FLAGS,
  studyProgress,
} from '../study-flags.ts';
import { pruneConfigFromFlags } from './prune.ts';

/** The sweep command's own flags; method option flags come from the method registry. */
const COMMON_FLAGS: OptionSpec = {
  model: { type: 'string' }, data: { type: 'string' }, method: { type: 'string' }, criterion: { type: 'string' }, sparsity: { type: 'string' },
  candidates: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, objective: { type: 'string' }, tolerance: { type: 'string' },
  'max-bytes': { type: 'string' }, scope: { type: 'string' }, granularity: { type: 'string' }, exclude: { type: 'string' }, batch: { type: 'string' },
  optimizer: { type: 'string' }, 'lr-schedule': { type: 'string' }, 'gradient-batches': { type: 'string' }, seed: { type: 'string' },
  distill: { type: 'boolean' }, 'distill-alpha': { type: 'string' }, 'distill-temperature': { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
  'out-json': { type: 'string' }, 'out-svg': { type: 'string' }, out: { type: 'string' }, encoding: { type: 'string' }, title: { type: 'string' },
  json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION, ...VALIDATION_FLAGS, ...JOB_FLAGS,
};

/** `sparsegrad sweep --help`. */
export function sweepHelp(): string {
  return `usage: sparsegrad sweep --model FILE [options]

Grid search for a pruning setting, chosen on validation data the model never saw: every value × epochs ×
learning rate is tried on a copy of the model; the test set is used once, for the chosen setting.

  --model FILE         trained model (from sparsegrad train)
  --data SPEC          digits (default), fashion-mnist, or a directory of IDX files
  --method NAME        default threshold; any method of sparsegrad prune --help, with its option flags
  --candidates LIST    values to try: the method's swept option (threshold: q in τ = q·std, l1: λ; default its
                       sweep candidates), or target sparsities for other methods (default 0.5,0.8,0.9,0.95,0.98,0.99)
  --epochs LIST        fine-tuning epochs to try, default 4
  --lr LIST            learning rates to try, default 0.001
  --objective NAME     sparsest (default): the sparsest setting within --tolerance of the dense model's
                       validation accuracy; best-at-size: the most accurate one of at most --max-bytes
  --tolerance T        allowed validation-accuracy drop, default 0.01 (one point)
  --max-bytes B        size budget of the weights as stored (dense or CSR per layer, whichever is smaller)
${validationHelp(23)}
${jobsHelp(23, 'the --out-json path with .runs.ndjson')}
  --criterion, --sparsity, --scope, --granularity, --exclude, --batch, --optimizer, --lr-schedule,
  --gradient-batches, --distill, --seed   as for sparsegrad prune
${trainingBackendHelp(23)}
${threadsHelp(23)}
  --out-json FILE      default sweep.json;  --out-svg FILE  default sweep.svg (validation accuracy vs sparsity)
  --out FILE           also save the chosen setting's model (trained from the given model)
${FOLLOW_SYMLINKS_HELP}  --encoding NAME      auto (default), csr or dense;  --title TEXT  chart title
  --json               print one JSON object as the last stdout line
  --quiet              no progress output
`;
}

/** `sparsegrad sweep`: grid search on validation data, then one final run of the chosen setting, judged on the test set. */
export async function sweepCommand(argv: string[]): Promise<void> {
  const methodFlags = methodFlagSpecs(COMMON_FLAGS);
  const { values } = parseCommand(argv, { ...COMMON_FLAGS, ...methodFlags });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const method = pruningMethod(stringFlag(values, 'method', 'threshold'));
  const options = methodOptionsFromFlags(values, [method], methodFlags).get(method.name)!;
  const swept = method.sweep?.option;
  if (swept !== undefined && options[swept] !== undefined) throw new UsageError(`sweep chooses --${swept} itself: give the values to try as --candidates`);
  const epochsList = numberListFlag(values, 'epochs', [4]);
  const lrs = numberListFlag(values, 'lr', [0.001]);
  for (const e of epochsList) if (!Number.isSafeInteger(e) || e < 0) throw new UsageError(`--epochs: ${e} is not a non-negative integer`);
  for (const lr of lrs) if (!(lr > 0)) throw new UsageError(`--lr: ${lr} is not a positive number`);
  const candidates = numberListFlag(values, 'candidates', method.sweep?.candidates ?? [0.5, 0.8, 0.9, 0.95, 0.98, 0.99]);
  const objective = objectiveFromFlags(values);
  const config = pruneConfigFromFlags(values, method.name, options, { epochs: epochsList[0]!, lr: lrs[0]! });
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  const jobs = jobsFlag(values);
  const backend = trainingBackend(values, out);
  const threads = threadsFlag(values, out, backend);
  const jsonPath = outputFlag(values, 'out-json', 'sweep.json')!;
  const svgPath = outputFlag(values, 'out-svg', 'sweep.svg')!;
  const modelPath = outputFlag(values, 'out');
  const runsPath = journalFlag(values, journalPathFor(jsonPath));

  const { model, training } = await loadModelWithTraining(stringFlag(values, 'model'));
  const dataSpec = stringFlag(values, 'data', 'digits');
  const data = loadData(dataSpec, out);
  const plan = validationPlanFromFlags(values, training, data, config.seed);
  if (plan === null) throw noValidationError('sweep', data);
  noteValidation(out, plan);
  const study = planSweep(plan, config, { values: candidates, epochs: epochsList, lrs }, objective);
  const state = modelState(model);
  const journal = openJournal(values, runsPath, studyIdentity('sweep', state, data, plan, backend), out);
  const started = Date.now();
  let resumed = 0;
  let results;
  try {
    results = await runStudyTasks({ model: state, train: data.train, test: null, plan, backend, threads: threadsPerJob(threads, jobs) }, study.tasks, {
      jobs,
      journal,
      ...studyProgress(out),
      onResult: (task, result, fromJournal) => {
        if (fromJournal) resumed++;
        else if (result.kind === 'trial') out.note(`  → ${task.label}: sparsity ${percent(result.sparsity)}, validation ${percent(result.validation!.accuracy)} (${result.seconds.toFixed(1)} s)`);
      },
    });
  } finally {
    journal.close();
  }
  out.endProgress();
  const sweep = study.assemble(results);

  // The test set, touched once: the dense model and the chosen setting's final run from the given model.
  const denseTest = evaluate(model, data.test);
  let final: Record<string, unknown> | null = null;
  if (sweep.chosen !== null) {
    const chosen = study.settings[sweep.rows.indexOf(sweep.chosen)]!;
    out.note(`chosen: ${sweep.swept} ${chosen.value}, ${chosen.epochs} epochs, lr ${chosen.lr}; final run on what the model was trained on`);
    const holdout = readHoldoutRecord(training);
    const train = finalTrainingData(data.train, plan, holdout);
    const result = withBackend(backend, () => withThreads(threads, () => runPruning(cloneModel(model), { train }, chosen.config)));
    const test = evaluate(result.model, data.test);
    final = { value: chosen.value, epochs: chosen.epochs, lr: chosen.lr, sparsity: result.sparsity, bytes: storedBytes(result.model), testAccuracy: test.accuracy, testLoss: test.loss };
    if (modelPath !== undefined) {
      const bytes = await saveModelTo(modelPath, result.model, encoding, {
        training: { command: 'sweep', method: method.name, criterion: config.criterion, [sweep.swept]: chosen.value, epochs: chosen.epochs, lr: chosen.lr, sparsity: result.sparsity, seed: config.seed, backend, testAccuracy: test.accuracy,
          ...(holdout === null || train === data.train ? {} : { holdout }) },
        ...outputOptions(values),
      });
      final['out'] = modelPath;
      out.note(`saved ${modelPath} (${kib(bytes)})`);
    }
  }
  const document = {
    command: 'sweep', data: dataSpec, method: method.name, base: config, ...sweepSummary(sweep),
    dense: { testAccuracy: denseTest.accuracy, testLoss: denseTest.loss }, final, threads: threadsPerJob(threads, jobs),
    runs: { total: study.tasks.length, resumed, jobs, journal: runsPath }, seconds: (Date.now() - started) / 1000,
  };
  const title = optionalString(values, 'title') ?? `Sweep of ${method.name} on ${plan.source === 'cv' ? `${plan.folds.length} folds` : 'held-out data'} (${data.train.name.split('/')[0]})`;
  await writeFileAtomically(jsonPath, JSON.stringify(document, null, 2) + '\n', outputOptions(values));
  await writeFileAtomically(svgPath, sweepChart(sweep, title), outputOptions(values));
  out.note(`wrote ${jsonPath} and ${svgPath}`);
  const folds = sweep.validation.folds > 1;
  out.result(table(sweep.rows.map((r) => ({
    [sweep.swept]: r.value, epochs: r.epochs, lr: r.lr, sparsity: percent(r.sparsity), KiB: (r.bytes / 1024).toFixed(1),
    validation: `${percent(r.accuracy)}${folds ? ` ± ${percent(r.accuracyStd)}` : ''}`, chosen: r === sweep.chosen ? '←' : '',
  })), [sweep.swept, 'epochs', 'lr', 'sparsity', 'KiB', 'validation', 'chosen']));
  out.result(`dense: validation ${percent(sweep.baseline)}${folds ? ` ± ${percent(sweep.baselineStd)}` : ''}, test ${percent(denseTest.accuracy)}`);
  out.result(final === null ? 'no setting met the objective' : `chosen ${sweep.swept} ${String(final['value'])}: test accuracy ${percent(final['testAccuracy'] as number)} at ${percent(final['sparsity'] as number)} sparsity`);
  out.emitJson(document);
}

/** `--objective` with its `--tolerance` or `--max-bytes`. */
function objectiveFromFlags(values: Record<string, unknown>): SweepObjective {
  const kind = stringFlag(values, 'objective', 'sparsest');
  if (kind === 'sparsest') {
    if (values['max-bytes'] !== undefined) throw new UsageError('--max-bytes is the budget of --objective best-at-size');
    return { kind, tolerance: numberFlag(values, 'tolerance', 0.01, { min: 0, max: 1, exclusiveMax: true }) };
  }
  if (kind === 'best-at-size') {
    if (values['tolerance'] !== undefined) throw new UsageError('--tolerance belongs to --objective sparsest; best-at-size takes --max-bytes');
    return { kind, maxBytes: numberFlag(values, 'max-bytes', undefined, { min: 1, integer: true }) };
  }
  throw new UsageError(`--objective must be sparsest or best-at-size, got '${kind}'`);
}
