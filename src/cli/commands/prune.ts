import { subset } from '../../data/dataset.ts';
import { evaluate } from '../../nn/train.ts';
import { OPTIMIZERS, type OptimizerName } from '../../nn/optim/make.ts';
import {
  LR_SCHEDULES, parseCriterion, parseGranularity, parseScope, pruningMethod, runPruning, sparsityReport, type LrScheduleName, type OptionValue, type PruneConfig,
} from '../../prune/index.ts';
import { runStudyTasks } from '../../node/study-pool.ts';
import { modelState } from '../../study/model-state.ts';
import { readHoldoutRecord } from '../../study/recipe.ts';
import { planSweep, type SweepResult } from '../../study/sweep.ts';
import { listFlag, numberFlag, numberListFlag, parseCommand, stringFlag, UsageError, type OptionSpec } from '../args.ts';
import { withBackend } from '../../tensor/backend.ts';
import { withThreads } from '../../tensor/threads.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, parseEncoding, saveModelTo, threadsFlag, threadsHelp, threadsPerJob, trainingBackend, trainingBackendHelp, trainingReporter } from '../common.ts';
import { finalTrainingData, jobsFlag, loadModelWithTraining, noteValidation, noValidationError, sweepSummary, validationHelp, validationPlanFromFlags, VALIDATION_FLAGS } from '../study-flags.ts';
import { criteriaHelp, methodFlagSpecs, methodOptionsFromFlags, methodsHelp } from '../method-flags.ts';
import { createOutput, kib, percent, table } from '../output.ts';
import type { ModelQuantization } from '../../quantize/index.ts';
import { compressionStages, parseEntropy, parseQuantizeFlag, PRUNE_QUANTIZE_FLAGS, PRUNE_QUANTIZE_HELP, quantizeExtras, quantizeForCli, quantizeLabel, saveQuantized, stageRows } from '../quantize-flags.ts';

/** The flags every method shares; each method's own option flags come from the method registry. */
const COMMON_FLAGS: OptionSpec = {
  model: { type: 'string' }, data: { type: 'string' }, method: { type: 'string' }, criterion: { type: 'string' }, sparsity: { type: 'string' },
  epochs: { type: 'string' }, scope: { type: 'string' }, granularity: { type: 'string' }, exclude: { type: 'string' }, 'layer-sparsity': { type: 'string' },
  candidates: { type: 'string' }, tolerance: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  optimizer: { type: 'string' }, 'lr-schedule': { type: 'string' }, 'gradient-batches': { type: 'string' }, seed: { type: 'string' },
  out: { type: 'string' }, encoding: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  distill: { type: 'boolean' }, 'distill-alpha': { type: 'string' }, 'distill-temperature': { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
  ...VALIDATION_FLAGS, jobs: { type: 'string' },
};

/** `sparsegrad prune --help`, with the methods, their options and the criteria read from the registries. */
export function pruneHelp(): string {
  return `usage: sparsegrad prune --model FILE [options]

Prunes a trained model, retrains it, and saves the result (CSR-encoded when that is smaller).

  --model FILE         trained model (from sparsegrad train)
  --data SPEC          digits (default), fashion-mnist, or a directory of IDX files
  --method NAME        one of the methods below (default gradual)
  --criterion NAME     one of the criteria below (default magnitude), for methods marked [criterion]
  --sparsity S         target fraction of pruned weights in [0, 1), default 0.9
  --epochs E           training epochs during/after pruning, default 4
  --scope NAME         global (default; layer for N:M) or layer
  --granularity G      weight (default); for methods marked [structured] also neuron (= filter: a whole
                       output unit; the model then shrinks), channel (a conv layer's input channel), kernel
                       (a k×k slice), N:M such as 2:4 (along input channels for conv layers), or a block
                       such as 1x4 / 4x1
  --exclude LIST       comma-separated layers to keep dense, e.g. layers.4
  --layer-sparsity L   per-layer final sparsities, e.g. layers.1=0.34,layers.4=0.88 (Han et al.'s table);
                       the other layers share --sparsity
  --candidates LIST    sweep candidates for a method option that can be chosen by a sweep (defaults below)
  --tolerance T        sweep: allowed validation-accuracy drop, default 0.01 (one point)
${validationHelp(23)}
  --jobs N             sweep runs in N parallel worker threads (default 1); same results for every N
                       (for grids over epochs and learning rates too, see sparsegrad sweep)
  --batch B            default 128;  --lr X  default 0.001;  --optimizer ${OPTIMIZERS.join('|')}  default adam
  --lr-schedule NAME   constant (default), cosine, or hold-cosine (full rate while masks change, then cosine)
  --distill            retrain with knowledge distillation from the unpruned model
  --distill-alpha A    weight of the label loss, default 0.5;  --distill-temperature T  default 4
  --gradient-batches N mini-batches for gradient-based scores, default 10
  --seed N             default 0
${trainingBackendHelp(23)}
${threadsHelp(23)}
  --out FILE           where to save the pruned model (atomic write; checked before pruning)
${FOLLOW_SYMLINKS_HELP}  --encoding NAME      auto (default: CSR when smaller), csr or dense
${PRUNE_QUANTIZE_HELP.trimEnd()}
  --json               print one JSON object as the last stdout line
  --quiet              no progress output

Methods, each with its own options (a flag of another method is an error):
${methodsHelp()}

Criteria (score per weight, higher = keep):
${criteriaHelp()}
`;
}

/** `sparsegrad prune`: loads a model, prunes it with a registered method (sweeping its threshold if needed), saves it. */
export async function pruneCommand(argv: string[]): Promise<void> {
  const methodFlags = methodFlagSpecs(COMMON_FLAGS);
  const { values } = parseCommand(argv, { ...COMMON_FLAGS, ...methodFlags, ...PRUNE_QUANTIZE_FLAGS });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const method = pruningMethod(stringFlag(values, 'method', 'gradual'));
  const options = methodOptionsFromFlags(values, [method], methodFlags).get(method.name)!;
  if (values['criterion'] !== undefined && !method.usesCriterion) out.note(`method '${method.name}' has its own rule and does not use --criterion`);
  const config = pruneConfigFromFlags(values, method.name, options, {
    epochs: numberFlag(values, 'epochs', 4, { min: 0, integer: true }),
    lr: numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true }),
  });
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  const quantize = values['quantize'] === undefined ? null : parseQuantizeFlag(stringFlag(values, 'quantize'));
  if (quantize === null && ['quantize-epochs', 'quantize-lr', 'entropy'].some((flag) => values[flag] !== undefined)) throw new UsageError('--quantize-epochs, --quantize-lr and --entropy need --quantize');
  const entropy = parseEntropy(stringFlag(values, 'entropy', 'huffman'));
  const quantizeEpochs = numberFlag(values, 'quantize-epochs', 1, { min: 0, integer: true });
  const quantizeLr = numberFlag(values, 'quantize-lr', 1e-4, { min: 0, exclusiveMin: true });
  const outPath = outputFlag(values, 'out');
  const backend = trainingBackend(values, out);
  const jobs = jobsFlag(values);
  const threads = threadsFlag(values, out, backend);
  const { model, training } = await loadModelWithTraining(stringFlag(values, 'model'));
  const data = loadData(stringFlag(values, 'data', 'digits'), out);
  const before = evaluate(model, data.test);
  out.note(`loaded model: test accuracy ${percent(before.accuracy)} before pruning`);

  // Validation comes from data the model never saw: its recorded holdout, --validation DIR or --cv K.
  const swept = method.sweep?.option;
  const needsSweep = swept !== undefined && options[swept] === undefined;
  if (!needsSweep && values['cv'] !== undefined) throw new UsageError(`--cv K chooses a swept setting, and method '${method.name}' with the options given has nothing to sweep`);
  const plan = validationPlanFromFlags(values, training, data, config.seed);
  if (needsSweep && plan === null) throw noValidationError(`prune --method ${method.name} without --${swept}`, data);
  if (plan !== null) noteValidation(out, plan);
  const holdout = readHoldoutRecord(training);
  const train = finalTrainingData(data.train, plan, holdout);
  if (train !== data.train) out.note(`training on the ${train.count} samples the model was trained on (its holdout stays unseen)`);

  let sweep: SweepResult | null = null;
  if (needsSweep) {
    const candidates = numberListFlag(values, 'candidates', method.sweep!.candidates);
    const tolerance = numberFlag(values, 'tolerance', 0.01, { min: 0, max: 1, exclusiveMax: true });
    out.note(`no --${swept} given: sweeping ${candidates.length} candidates on ${plan!.folds.length > 1 ? `${plan!.folds.length} folds` : 'the validation data'} (tolerance ${percent(tolerance, 1)})`);
    const study = planSweep(plan!, config, { values: candidates }, { kind: 'sparsest', tolerance });
    const results = await runStudyTasks({ model: modelState(model), train: data.train, test: null, plan, backend, threads: threadsPerJob(threads, jobs) }, study.tasks, {
      jobs,
      onNote: (text) => out.note(text),
      onResult: (task, result) => {
        if (task.kind === 'trial' && result.kind === 'trial') out.note(`  ${task.label}: sparsity ${percent(result.sparsity)}, validation ${percent(result.validation!.accuracy)}`);
      },
    });
    sweep = study.assemble(results);
    const chosen = sweep.chosen ?? sweep.rows[0]!;
    const spread = (std: number): string => (sweep!.validation.folds > 1 ? ` ± ${percent(std)}` : '');
    if (sweep.chosen === null) out.note(`no candidate kept validation accuracy within tolerance; using the mildest (${chosen.value})`);
    else out.note(`chosen ${swept} ${chosen.value} (validation ${percent(chosen.accuracy)}${spread(chosen.accuracyStd)} vs dense ${percent(sweep.baseline)}${spread(sweep.baselineStd)})`);
    options[swept!] = chosen.value;
  }

  const reporter = trainingReporter(out, method.name);
  const started = Date.now();
  const result = withBackend(backend, () => withThreads(threads, () => runPruning(model, { train }, config, {
    onNote: (text) => out.note(text),
    onProgress: (e) => reporter.onProgress(e),
    onEpoch: (s) => reporter.onEpoch(s),
  })));
  out.endProgress();
  // Deep Compression's pipeline: prune, then quantize with fine-tuning, then entropy-code (saveQuantized).
  const prunedStages = compressionStages(result.model, null);
  let quantization: ModelQuantization | null = null;
  if (quantize !== null) {
    const prunedAccuracy = evaluate(result.model, data.test).accuracy;
    const quantizer = trainingReporter(out, `quantize ${quantizeLabel(quantize)}`);
    quantization = withThreads(threads, () => quantizeForCli(result.model, train, quantize, {
      epochs: quantizeEpochs, lr: quantizeLr, batchSize: config.batchSize, seed: config.seed, backend, threads, callbacks: quantizer,
    })).quantization;
    out.endProgress();
    out.note(`quantized (${quantizeLabel(quantize)}): test accuracy ${percent(prunedAccuracy)} before quantizing`);
  }
  const after = evaluate(result.model, data.test);
  const validated = plan === null || plan.recipe !== null ? null : evaluate(result.model, plan.external ?? subset(data.train, plan.folds[0]!.validationIndices!, `${data.train.name}/validation`));
  const report = sparsityReport(result.model);
  const summary: Record<string, unknown> = {
    testAccuracy: after.accuracy,
    testLoss: after.loss,
    denseTestAccuracy: before.accuracy,
    sparsity: result.sparsity,
    method: method.name,
    criterion: config.criterion,
    scope: config.scope,
    granularity: stringFlag(values, 'granularity', 'weight'),
    epochs: config.epochs,
    seconds: (Date.now() - started) / 1000,
    backend,
    threads,
    layers: report.layers,
    total: report.total,
    ...(result.shrink === undefined ? {} : { shrink: result.shrink }),
    options,
    ...(typeof options['threshold'] === 'number' ? { threshold: options['threshold'] } : {}),
    ...(validated === null ? {} : { validationAccuracy: validated.accuracy }),
    ...(plan === null ? {} : { validation: { source: plan.source, folds: plan.folds.length, description: plan.description } }),
    ...(sweep === null ? {} : { sweep: sweepSummary(sweep) }),
    ...(quantize === null ? {} : { quantize: { method: quantize.method, bits: quantize.bits ?? 8, ...quantizeExtras(quantize), epochs: quantizeEpochs, lr: quantizeLr } }),
    stages: stageRows(quantization === null ? prunedStages : { ...compressionStages(result.model, quantization), pruned: prunedStages.pruned }),
  };
  if (outPath !== undefined) {
    const trainingFacts = {
      command: 'prune', method: method.name, criterion: config.criterion, sparsity: result.sparsity, epochs: config.epochs, seed: config.seed, backend, testAccuracy: after.accuracy,
      // Pruned and retrained without the holdout: it is still held out for this model (to prune it further).
      ...(holdout === null || train === data.train ? {} : { holdout }),
      ...(quantize === null ? {} : { quantize: { method: quantize.method, bits: quantize.bits ?? 8, ...quantizeExtras(quantize), epochs: quantizeEpochs } }),
    };
    const bytes = quantization === null
      ? await saveModelTo(outPath, result.model, encoding, { training: trainingFacts, ...outputOptions(values) })
      : await saveQuantized(outPath, result.model, quantization, encoding, entropy, { training: trainingFacts, ...outputOptions(values) });
    summary['out'] = outPath;
    summary['fileBytes'] = bytes;
    out.note(`saved ${outPath} (${kib(bytes)})`);
  }
  out.result(table(report.layers.map((l) => ({ layer: l.name, shape: l.weightShape.join('x'), nnz: l.nnz, sparsity: percent(l.sparsity), 'KiB dense': (l.bytesDense / 1024).toFixed(1), 'KiB CSR': (l.bytesSparse / 1024).toFixed(1) })), ['layer', 'shape', 'nnz', 'sparsity', 'KiB dense', 'KiB CSR']));
  if (result.shrink !== undefined) {
    const { parameters: p, flops: f } = result.shrink;
    out.result(`shrunk: ${p.before} → ${p.after} parameters, ${f.before} → ${f.after} FLOPs per sample (${(f.before / Math.max(f.after, 1)).toFixed(2)}× fewer)`);
  }
  if (validated !== null) out.result(`validation accuracy ${percent(validated.accuracy)} (${plan!.description})`);
  out.result(`test accuracy ${percent(after.accuracy)} at ${percent(result.sparsity)} sparsity (dense: ${percent(before.accuracy)})`);
  out.emitJson(summary);
}

/**
 * The pruning settings every method shares, from the flags of prune and sweep (`epochs` and `lr` are
 * passed in: sweep takes lists of them). Throws UsageError naming a bad flag.
 */
export function pruneConfigFromFlags(values: Record<string, unknown>, method: string, options: Record<string, OptionValue>, given: { epochs: number; lr: number }): PruneConfig {
  const optimizer = stringFlag(values, 'optimizer', 'adam');
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) throw new UsageError(`--optimizer must be ${OPTIMIZERS.join(', ')}, got '${optimizer}'`);
  const lrSchedule = stringFlag(values, 'lr-schedule', 'constant');
  if (!(LR_SCHEDULES as readonly string[]).includes(lrSchedule)) throw new UsageError(`--lr-schedule must be one of ${LR_SCHEDULES.join(', ')}, got '${lrSchedule}'`);
  const granularity = parseGranularity(stringFlag(values, 'granularity', 'weight'));
  return {
    method,
    criterion: parseCriterion(stringFlag(values, 'criterion', 'magnitude')),
    sparsity: numberFlag(values, 'sparsity', 0.9, { min: 0, max: 1, exclusiveMax: true }),
    granularity,
    // N:M is a per-layer rule, so its default scope is 'layer'
    scope: parseScope(stringFlag(values, 'scope', granularity.kind === 'nm' ? 'layer' : 'global')),
    exclude: listFlag(values, 'exclude', []),
    ...layerSparsityFlag(values),
    epochs: given.epochs,
    batchSize: numberFlag(values, 'batch', 128, { min: 1, integer: true }),
    lr: given.lr,
    optimizer: optimizer as OptimizerName,
    lrSchedule: lrSchedule as LrScheduleName,
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
    gradientBatches: numberFlag(values, 'gradient-batches', 10, { min: 1, integer: true }),
    options,
    ...(values['distill'] === true
      ? {
          distill: {
            alpha: numberFlag(values, 'distill-alpha', 0.5, { min: 0, max: 1 }),
            temperature: numberFlag(values, 'distill-temperature', 4, { min: 0, exclusiveMin: true }),
          },
        }
      : {}),
  };
}


/** `--layer-sparsity layers.1=0.34,layers.4.weight=0.88` as per-layer overrides (names normalised to `.weight`). */
function layerSparsityFlag(values: Record<string, unknown>): { overrides?: Record<string, number> } {
  const entries = listFlag(values, 'layer-sparsity', []);
  if (entries.length === 0) return {};
  const overrides: Record<string, number> = {};
  for (const entry of entries) {
    const match = /^(layers\.\d+)(\.weight)?=([0-9.eE+-]+)$/.exec(entry);
    const value = match === null ? NaN : Number(match[3]);
    if (match === null || !(value >= 0 && value < 1)) throw new UsageError(`--layer-sparsity takes NAME=S pairs with S in [0, 1), such as layers.1=0.34; got '${entry}'`);
    overrides[`${match[1]}.weight`] = value;
  }
  return { overrides };
}
