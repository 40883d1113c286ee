import { subset, type DataSplit, type Dataset } from '../../data/dataset.ts';
import { evaluate } from '../../nn/train.ts';
import { writeFileAtomically } from '../../node/files.ts';
import { findTargets, needsGradients, parseCriterion } from '../../prune/index.ts';
import { sensitivityChart } from '../../study/sensitivity-chart.ts';
import { sensitivityAnalysis, suggestLayerSparsities, type LayerSparsitySuggestion, type SensitivityRow } from '../../study/sensitivity.ts';
import { planSummary, type ValidationPlan } from '../../study/validation.ts';
import { withBackend } from '../../tensor/backend.ts';
import { withThreads } from '../../tensor/threads.ts';
import { numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError, type OptionSpec } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, threadsFlag, threadsHelp, trainingBackend, trainingBackendHelp } from '../common.ts';
import { criteriaHelp } from '../method-flags.ts';
import { createOutput, percent, table } from '../output.ts';
import { loadModelWithTraining, noteValidation, noValidationError, validationPlanFromFlags, VALIDATION_FLAGS } from '../study-flags.ts';

const FLAGS: OptionSpec = {
  model: { type: 'string' }, data: { type: 'string' }, sparsities: { type: 'string' }, criterion: { type: 'string' }, tolerance: { type: 'string' },
  'gradient-batches': { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
  'out-json': { type: 'string' }, 'out-svg': { type: 'string' }, title: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
  ...FOLLOW_SYMLINKS_OPTION, ...VALIDATION_FLAGS,
};

/** The sparsities each layer is pruned to by default: Han et al.'s curves are dense near the high end. */
const DEFAULT_SPARSITIES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];

/** `sparsegrad sensitivity --help`. */
export function sensitivityHelp(): string {
  return `usage: sparsegrad sensitivity --model FILE [options]

Per-layer sensitivity analysis (Han et al. 2015): prunes one layer at a time to each sparsity, with no
retraining, and measures the accuracy on validation data the model never saw. Suggests for each layer the
highest sparsity whose validation accuracy stays within --tolerance of the dense model's (0 if none does),
printed as a --layer-sparsity line for sparsegrad prune. Each layer is judged alone: pruning all of them at
once costs more, which is what prune's retraining is for. The test set is not used.

  --model FILE         trained model (from sparsegrad train)
  --data SPEC          digits (default), fashion-mnist, or a directory of IDX files
  --sparsities LIST    sparsities to prune each layer to, each in [0, 1)
                       (default ${DEFAULT_SPARSITIES.join(',')})
  --criterion NAME     how to score weights within a layer, default magnitude (any criterion below);
                       gradient-based ones score on the training part only, never on validation samples
  --tolerance T        allowed drop in validation accuracy, default 0.01 (one point)
  --gradient-batches N mini-batches for gradient-based scores, default 10;  --seed N  default 0
  --validation DIR     validate on a directory of IDX files the model never saw (one images and one labels
                       file) instead of the holdout recorded in the model file (the default)
                       (--cv does not apply: nothing is retrained)
${trainingBackendHelp(23)}
${threadsHelp(23)}
  --out-json FILE      default sensitivity.json;  --out-svg FILE  default sensitivity.svg (accuracy vs
                       sparsity, one line per layer); both checked before any work
${FOLLOW_SYMLINKS_HELP}  --title TEXT         chart title
  --json               print one JSON object as the last stdout line
  --quiet              no progress output

Criteria (score per weight, higher = keep):
${criteriaHelp()}
`;
}

/** `sparsegrad sensitivity`: one layer pruned at a time on validation data, and per-layer sparsity targets. */
export async function sensitivityCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, FLAGS);
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  if (values['cv'] !== undefined) {
    throw new UsageError('--cv does not apply to sensitivity: cross-validation retrains the dense model on each fold, and sensitivity analysis never retrains; validate on the model\'s holdout (the default) or --validation DIR');
  }
  const sparsities = sparsitiesFlag(values);
  const criterion = parseCriterion(stringFlag(values, 'criterion', 'magnitude'));
  const tolerance = numberFlag(values, 'tolerance', 0.01, { min: 0, max: 1, exclusiveMax: true });
  const gradientBatches = numberFlag(values, 'gradient-batches', 10, { min: 1, integer: true });
  const seed = numberFlag(values, 'seed', 0, { min: 0, integer: true });
  const backend = trainingBackend(values, out);
  const threads = threadsFlag(values, out, backend);
  const jsonPath = outputFlag(values, 'out-json', 'sensitivity.json')!;
  const svgPath = outputFlag(values, 'out-svg', 'sensitivity.svg')!;

  const { model, training } = await loadModelWithTraining(stringFlag(values, 'model'));
  const dataSpec = stringFlag(values, 'data', 'digits');
  const data = loadData(dataSpec, out);
  const plan = validationPlanFromFlags(values, training, data, seed);
  if (plan === null) throw noValidationError('sensitivity', data);
  noteValidation(out, plan);
  const { validation, trainPart } = planData(plan, data);
  const targets = findTargets(model);
  const weights = new Map(targets.map((t) => [t.name, t.weight.value.size] as const));
  const current = new Map(targets.map((t) => [t.name, maskedFraction(t.weight.mask)] as const));
  // An already pruned model is measured from where it is: masks only shrink, so a sparsity below a layer's
  // current one leaves that layer as it is, and the baseline is this model, not a dense one.
  const pruned = [...current.values()].some((f) => f > 0);
  const reference = pruned ? 'the given model' : 'dense';
  if (pruned) {
    out.note(`the model is already pruned (${[...current].map(([name, f]) => `${shortName(name)} ${sparsityLabel(f)}`).join(', ')}): each layer is pruned further from there, and a sparsity below its current one leaves it as it is`);
  }

  const started = Date.now();
  const { baseline, rows } = withBackend(backend, () => withThreads(threads, () => {
    const accuracy = evaluate(model, validation).accuracy;
    out.note(`${reference}: validation ${percent(accuracy)}; pruning each layer alone to ${sparsities.length} sparsities by ${criterion}`);
    const measured = sensitivityAnalysis(model, validation, {
      sparsities, criterion, seed, gradientBatches, ...(needsGradients(criterion) ? { trainForScores: trainPart } : {}),
      onLayer: (layer, layerRows, index, count) => {
        const points = layerRows.map((r) => `${sparsityLabel(r.sparsity)} ${percent(r.accuracy)}`).join(', ');
        out.note(`[${index + 1}/${count}] ${shortName(layer)}: ${points}`);
      },
    });
    return { baseline: accuracy, rows: measured };
  }));
  const suggestions = suggestLayerSparsities(rows, baseline, tolerance);
  const overall = weightedSparsity(suggestions, weights, current);
  const flag = suggestions.map((s) => `${shortName(s.layer)}=${s.sparsity}`).join(',');

  const document = {
    command: 'sensitivity', data: dataSpec, criterion, sparsities, tolerance, seed, ...(needsGradients(criterion) ? { gradientBatches } : {}),
    validation: planSummary(plan),
    baseline: { validationAccuracy: baseline },
    rows: rows.map((r) => ({ layer: r.layer, sparsity: r.sparsity, validationAccuracy: r.accuracy })),
    suggestions: suggestions.map((s) => ({ layer: s.layer, weights: weights.get(s.layer)!, currentSparsity: current.get(s.layer)!, sparsity: s.sparsity, validationAccuracy: s.accuracy })),
    layerSparsity: flag,
    overallSparsity: overall,
    backend, threads, seconds: (Date.now() - started) / 1000,
  };
  const title = optionalString(values, 'title') ?? `Sensitivity of each layer pruned alone (${data.train.name.split('/')[0]}, ${criterion})`;
  await writeFileAtomically(jsonPath, JSON.stringify(document, null, 2) + '\n', outputOptions(values));
  await writeFileAtomically(svgPath, sensitivityChart(rows, baseline, title, { tolerance, baselineName: reference }), outputOptions(values));
  out.note(`wrote ${jsonPath} and ${svgPath}`);

  out.result(sensitivityTable(rows, suggestions, sparsities, weights));
  out.result(`${reference}: validation ${percent(baseline)} (${plan.description})`);
  const points = Number((tolerance * 100).toFixed(2));
  out.result(`suggested: the highest sparsity within ${points} point${points === 1 ? '' : 's'} of ${reference}, each layer pruned alone (${percent(overall)} of the prunable weights overall):`);
  out.result(`--layer-sparsity ${flag}`);
  out.emitJson(document);
}

/** `--sparsities`: values in [0, 1), sorted and without repeats (they become the table's columns). */
function sparsitiesFlag(values: Record<string, unknown>): number[] {
  const list = numberListFlag(values, 'sparsities', DEFAULT_SPARSITIES);
  for (const s of list) if (!(s >= 0 && s < 1)) throw new UsageError(`--sparsities: every value must be a sparsity in [0, 1), got ${s}`);
  return [...new Set(list)].sort((a, b) => a - b);
}

/**
 * The validation samples of a one-fold plan, and the training part gradient criteria may score on (what the
 * model was trained on: never the validation samples).
 */
function planData(plan: ValidationPlan, data: DataSplit): { validation: Dataset; trainPart: Dataset } {
  const fold = plan.folds[0]!;
  const validation = fold.validationIndices === null ? plan.external! : subset(data.train, fold.validationIndices, `${data.train.name}/validation`);
  const trainPart = fold.trainIndices.length === data.train.count ? data.train : subset(data.train, fold.trainIndices, `${data.train.name}/fit`);
  return { validation, trainPart };
}

/** The fraction of a weight's entries its mask prunes (0 without a mask). */
function maskedFraction(mask: Uint8Array | null): number {
  if (mask === null || mask.length === 0) return 0;
  let pruned = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0) pruned++;
  return pruned / mask.length;
}

/**
 * Σ sparsity · weights / Σ weights over the layers: the sparsity of all prunable weights together once each
 * layer is pruned to its suggestion (or stays at its current sparsity, if that is higher: masks only shrink).
 */
function weightedSparsity(suggestions: readonly LayerSparsitySuggestion[], weights: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): number {
  let pruned = 0;
  let total = 0;
  for (const s of suggestions) {
    const n = weights.get(s.layer)!;
    pruned += Math.max(s.sparsity, current.get(s.layer)!) * n;
    total += n;
  }
  return total === 0 ? 0 : pruned / total;
}

/** Layer × sparsity: the validation accuracy of each layer pruned alone, and its suggested sparsity. */
function sensitivityTable(rows: readonly SensitivityRow[], suggestions: readonly LayerSparsitySuggestion[], sparsities: readonly number[], weights: ReadonlyMap<string, number>): string {
  const column = sparsityLabel;
  const lines = suggestions.map((suggestion) => {
    const line: Record<string, unknown> = { layer: shortName(suggestion.layer), weights: weights.get(suggestion.layer) };
    for (const r of rows) if (r.layer === suggestion.layer) line[column(r.sparsity)] = percent(r.accuracy);
    line['suggested'] = column(suggestion.sparsity);
    return line;
  });
  return table(lines, ['layer', 'weights', ...sparsities.map(column), 'suggested']);
}

/** A sparsity as a short percentage: 0.9 → '90%', 0.995 → '99.5%'. */
function sparsityLabel(s: number): string {
  return `${Number((s * 100).toFixed(2))}%`;
}

/** 'layers.1.weight' → 'layers.1', the form --layer-sparsity and --exclude take. */
function shortName(parameter: string): string {
  return parameter.replace(/\.weight$/, '');
}
