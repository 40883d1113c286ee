import { evaluate } from '../../nn/train.ts';
import { runStudyTasks } from '../../node/study-pool.ts';
import { parseCriterion, parseGranularity, parseScope, pruningMethod, pruningMethods, type OptionValue } from '../../prune/index.ts';
import { comparisonChart } from '../../study/compare-chart.ts';
import { planComparison } from '../../study/compare.ts';
import { modelState } from '../../study/model-state.ts';
import { listFlag, numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, type OptionSpec } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, threadsFlag, threadsHelp, threadsPerJob, trainingBackend, trainingBackendHelp } from '../common.ts';
import {
  JOB_FLAGS, jobsFlag, jobsHelp, journalFlag, journalPathFor, loadModelWithTraining, noteValidation, noValidationError, openJournal, studyIdentity, validationHelp,
  validationPlanFromFlags, VALIDATION_FLAGS,
  studyProgress,
} from '../study-flags.ts';
import { methodFlagSpecs, methodOptionsFromFlags } from '../method-flags.ts';
import { createOutput, percent, table } from '../output.ts';
import { writeFileAtomically } from '../../node/files.ts';
import { compressionChart, type CompressionPoint } from '../../report/index.ts';
import type { ComparisonRow } from '../../study/compare.ts';
import { parseQuantizeFlag, quantizeExtras, quantizeLabel } from '../quantize-flags.ts';

/** The compare command's own flags; method option flags come from the method registry. */
const COMMON_FLAGS: OptionSpec = {
  model: { type: 'string' }, data: { type: 'string' }, methods: { type: 'string' }, criteria: { type: 'string' }, sparsities: { type: 'string' },
  epochs: { type: 'string' }, scope: { type: 'string' }, granularity: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  seed: { type: 'string' }, 'out-json': { type: 'string' }, 'out-svg': { type: 'string' }, title: { type: 'string' },
  json: { type: 'boolean' }, quiet: { type: 'boolean' }, backend: { type: 'string' }, threads: { type: 'string' }, ...FOLLOW_SYMLINKS_OPTION, ...VALIDATION_FLAGS, ...JOB_FLAGS,
  quantize: { type: 'string' }, 'quantize-epochs': { type: 'string' }, 'quantize-lr': { type: 'string' }, 'out-compression-svg': { type: 'string' },
};

/** `sparsegrad compare --help`, listing the registered methods that can be put on a sparsity grid. */
export function compareHelp(): string {
  const gridMethods = pruningMethods().filter((m) => m.sparsity !== 'outcome' || m.calibrate !== undefined).map((m) => m.name);
  return `usage: sparsegrad compare --model FILE [options]

Runs a grid of methods × criteria × sparsities from the same trained model, each on its own copy, and
writes a JSON table and an SVG chart of test accuracy vs sparsity. Every row also gets its validation
accuracy on data the model never saw (the number to choose a method by; the test number is for reporting).

  --model FILE       trained model (from sparsegrad train)
  --data SPEC        digits (default), fashion-mnist, or a directory of IDX files
  --methods LIST     comma-separated, from ${gridMethods.join(', ')} (default oneshot,gradual)
  --criteria LIST    comma-separated, from the criteria of sparsegrad prune --help (default magnitude,gradient,taylor);
                     used by methods marked [criterion] there; the other methods have their own rule
  --sparsities LIST  default 0.5,0.8,0.9,0.95,0.98,0.99
  --epochs E         training epochs per run, default 4
  --scope, --granularity, --batch, --lr, --seed   as for sparsegrad prune
  method options     as for sparsegrad prune (e.g. --rounds N for iterative); each applies to every
                     listed method that has it
${validationHelp(21)}
${jobsHelp(21, 'the --out-json path with .runs.ndjson')}
${trainingBackendHelp(21)}
${threadsHelp(21)}
  --out-json FILE    default compare.json;  --out-svg FILE  default compare.svg (both checked before the runs)
  --quantize Q       also quantize every pruned model (int8, or kmeans:B; ,LAYER=B and ,f16 as for prune),
                     fine-tuned for --quantize-epochs (default 1) at --quantize-lr (default 0.0001): rows
                     gain the file size after each stage and the quantized accuracy, and
                     --out-compression-svg FILE (default compare-compression.svg) charts test accuracy
                     against file size (log scale)
${FOLLOW_SYMLINKS_HELP}  --title TEXT       chart title
  --json             print the table as one JSON object on the last stdout line
  --quiet            no progress output
`;
}

/** `sparsegrad compare`: a grid of methods × criteria × sparsities, written as JSON and an SVG chart. */
export async function compareCommand(argv: string[]): Promise<void> {
  const methodFlags = methodFlagSpecs(COMMON_FLAGS);
  const { values } = parseCommand(argv, { ...COMMON_FLAGS, ...methodFlags });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const methods = listFlag(values, 'methods', ['oneshot', 'gradual']).map((name) => pruningMethod(name));
  const methodOptions: Record<string, Record<string, OptionValue>> = {};
  for (const [name, options] of methodOptionsFromFlags(values, methods, methodFlags)) if (Object.keys(options).length > 0) methodOptions[name] = options;
  const criteria = listFlag(values, 'criteria', ['magnitude', 'gradient', 'taylor']).map(parseCriterion);
  const sparsities = numberListFlag(values, 'sparsities', [0.5, 0.8, 0.9, 0.95, 0.98, 0.99]);
  const base = {
    scope: parseScope(stringFlag(values, 'scope', 'global')),
    granularity: parseGranularity(stringFlag(values, 'granularity', 'weight')),
    epochs: numberFlag(values, 'epochs', 4, { min: 0, integer: true }),
    batchSize: numberFlag(values, 'batch', 128, { min: 1, integer: true }),
    lr: numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true }),
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
  };
  const dataSpec = stringFlag(values, 'data', 'digits');
  const jobs = jobsFlag(values);
  const backend = trainingBackend(values, out);
  const threads = threadsFlag(values, out, backend);
  const quantize = values['quantize'] === undefined ? null : parseQuantizeFlag(stringFlag(values, 'quantize'));
  const trialQuantization = quantize === null ? undefined : {
    method: quantize.method, ...(quantize.bits === null ? {} : { bits: quantize.bits }), ...quantizeExtras(quantize),
    epochs: numberFlag(values, 'quantize-epochs', 1, { min: 0, integer: true }), lr: numberFlag(values, 'quantize-lr', 1e-4, { min: 0, exclusiveMin: true }),
  };
  const compressionSvgPath = quantize === null ? undefined : outputFlag(values, 'out-compression-svg', 'compare-compression.svg')!;
  const jsonPath = outputFlag(values, 'out-json', 'compare.json')!;
  const svgPath = outputFlag(values, 'out-svg', 'compare.svg')!;
  const runsPath = journalFlag(values, journalPathFor(jsonPath));
  const { model, training } = await loadModelWithTraining(stringFlag(values, 'model'));
  const data = loadData(dataSpec, out);
  const plan = validationPlanFromFlags(values, training, data, base.seed);
  if (plan === null) throw noValidationError('compare', data);
  noteValidation(out, plan);
  const study = planComparison(plan, { methods: methods.map((m) => m.name), criteria, sparsities, base, methodOptions, ...(trialQuantization === undefined ? {} : { quantize: trialQuantization }) });
  const state = modelState(model);
  const journal = openJournal(values, runsPath, studyIdentity('compare', state, data, plan, backend), out);
  const started = Date.now();
  let resumed = 0;
  let results;
  try {
    results = await runStudyTasks({ model: state, train: data.train, test: data.test, plan, backend, threads: threadsPerJob(threads, jobs) }, study.tasks, {
      jobs,
      journal,
      ...studyProgress(out),
      onResult: (task, result, fromJournal) => {
        if (fromJournal) resumed++;
        else if (result.kind === 'trial') {
          const scores = [result.validation === undefined ? '' : `validation ${percent(result.validation.accuracy)}`, result.test === undefined ? '' : `test ${percent(result.test.accuracy)}`].filter(Boolean);
          out.note(`  → ${task.label}: ${scores.join(', ')} at ${percent(result.sparsity)} sparsity (${result.seconds.toFixed(1)} s)`);
        }
      },
    });
  } finally {
    journal.close();
  }
  out.endProgress();
  const denseTest = evaluate(model, data.test);
  const comparison = study.assemble(results, { accuracy: denseTest.accuracy, loss: denseTest.loss });
  const title = optionalString(values, 'title') ?? `Accuracy vs sparsity (${data.train.name.split('/')[0]}, ${base.epochs} epochs per run)`;
  const runs = { total: study.tasks.length, resumed, jobs, journal: runsPath };
  const document = { data: dataSpec, base, methodOptions, methods: methods.map((m) => m.name), criteria, sparsities, backend, threads: threadsPerJob(threads, jobs), runs, seconds: (Date.now() - started) / 1000, ...comparison };
  await writeFileAtomically(jsonPath, JSON.stringify(document, null, 2) + '\n', outputOptions(values));
  await writeFileAtomically(svgPath, comparisonChart(comparison, title), outputOptions(values));
  if (compressionSvgPath !== undefined) {
    await writeFileAtomically(compressionSvgPath, compressionSvg(comparison.rows, comparison.dense.testAccuracy, quantizeLabel(quantize!), title), outputOptions(values));
    out.note(`wrote ${compressionSvgPath}`);
  }
  out.note(`wrote ${jsonPath} and ${svgPath}`);
  const spread = (std: number | undefined): string => (plan.folds.length > 1 && std !== undefined ? ` ± ${percent(std)}` : '');
  out.result(table(comparison.rows.map((r) => ({
    method: r.method, criterion: r.criterion, target: r.targetSparsity, sparsity: percent(r.sparsity),
    'validation acc': r.validationAccuracy === undefined ? '' : `${percent(r.validationAccuracy)}${spread(r.validationStd)}`, 'test acc': percent(r.testAccuracy),
    ...(r.compression === undefined ? {} : {
      'bytes pruned/quantized/Huffman': `${r.compression.stages.pruned}/${r.compression.stages.quantized}/${r.compression.stages.entropyCoded}`, 'quantized test acc': percent(r.compression.testAccuracy),
    }),
  })), ['method', 'criterion', 'target', 'sparsity', 'validation acc', 'test acc', ...(quantize === null ? [] : ['bytes pruned/quantized/Huffman', 'quantized test acc'])]));
  out.result(`dense: validation ${percent(comparison.dense.validationAccuracy ?? NaN)}${spread(comparison.dense.validationStd)}, test ${percent(comparison.dense.testAccuracy)}`);
  out.emitJson(document);
}

/** Test accuracy against file size per stage (pruned, quantized, entropy-coded), one point per grid row. */
function compressionSvg(rows: readonly ComparisonRow[], denseAccuracy: number, label: string, title: string): string {
  const series = new Map<string, CompressionPoint[]>([['pruned (float32)', []], [`pruned + ${label}`, []], [`pruned + ${label} + Huffman`, []]]);
  let dense = 0;
  for (const row of rows) {
    if (row.compression === undefined) continue;
    const { stages, testAccuracy } = row.compression;
    dense = stages.dense;
    series.get('pruned (float32)')!.push({ bytes: stages.pruned, accuracy: row.testAccuracy });
    series.get(`pruned + ${label}`)!.push({ bytes: stages.quantized!, accuracy: testAccuracy });
    series.get(`pruned + ${label} + Huffman`)!.push({ bytes: stages.entropyCoded!, accuracy: testAccuracy });
  }
  return compressionChart({ title: `${title}: accuracy against file size`, series, dense: { bytes: dense, accuracy: denseAccuracy } });
}
