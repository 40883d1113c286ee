import { evaluate } from '../../nn/train.ts';
import {
  CRITERIA, LR_SCHEDULES, METHODS, parseCriterion, parseGranularity, parseMethod, parseScope, runPruning, sparsityReport, sweepPruning, THRESHOLD_METHODS,
  type LrScheduleName, type PruneConfig,
} from '../../prune/index.ts';
import { listFlag, numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { withBackend } from '../../tensor/backend.ts';
import { loadData, loadModel, parseEncoding, saveModelTo, trainingBackend, trainingBackendHelp, trainingReporter } from '../common.ts';
import { createOutput, kib, percent, table } from '../output.ts';

export const PRUNE_HELP = `usage: sparsegrad prune --model FILE [options]

Prunes a trained model, retrains it, and saves the result (CSR-encoded when that is smaller).

  --model FILE         trained model (from sparsegrad train)
  --data SPEC          digits (default), fashion-mnist, or a directory of IDX files
  --method NAME        ${METHODS.join(' | ')} (default gradual)
  --criterion NAME     ${CRITERIA.join(' | ')} (default magnitude)
  --sparsity S         target fraction of pruned weights in [0, 1), default 0.9
  --epochs E           training epochs during/after pruning, default 4
  --scope NAME         global (default) or layer
  --granularity G      weight (default), neuron, N:M such as 2:4, or a block such as 1x4 / 4x1
  --exclude LIST       comma-separated layers to keep dense, e.g. layers.4
  --rounds R           rounds of the iterative method, default 3
  --threshold X        threshold method: q in τ = q·std(w); l1 method: λ.
                       Omitted for those methods: chosen by a validation sweep over --candidates
  --candidates LIST    sweep candidates (default: thresholds 0.25,0.5,1,1.5,2,3 / λ 1e-4,3e-4,1e-3,3e-3,1e-2)
  --tolerance T        sweep: allowed validation-accuracy drop, default 0.01 (one point)
  --batch B            default 128;  --lr X  default 0.001;  --optimizer adam|adamw|sgd  default adam
  --lr-schedule NAME   constant (default), cosine, or hold-cosine (full rate while masks change, then cosine)
  --distill            retrain with knowledge distillation from the unpruned model
  --distill-alpha A    weight of the label loss, default 0.5;  --distill-temperature T  default 4
  --gradient-batches N mini-batches for gradient-based scores, default 10
  --seed N             default 0
${trainingBackendHelp(23)}
  --out FILE           where to save the pruned model (atomic write)
  --encoding NAME      auto (default: CSR when smaller), csr or dense
  --json               print one JSON object as the last stdout line
  --quiet              no progress output
`;

export async function pruneCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, data: { type: 'string' }, method: { type: 'string' }, criterion: { type: 'string' }, sparsity: { type: 'string' },
    epochs: { type: 'string' }, scope: { type: 'string' }, granularity: { type: 'string' }, exclude: { type: 'string' }, rounds: { type: 'string' },
    threshold: { type: 'string' }, candidates: { type: 'string' }, tolerance: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
    optimizer: { type: 'string' }, 'lr-schedule': { type: 'string' }, 'gradient-batches': { type: 'string' }, seed: { type: 'string' },
    out: { type: 'string' }, encoding: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    distill: { type: 'boolean' }, 'distill-alpha': { type: 'string' }, 'distill-temperature': { type: 'string' }, backend: { type: 'string' },
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const method = parseMethod(stringFlag(values, 'method', 'gradual'));
  const optimizer = stringFlag(values, 'optimizer', 'adam');
  if (!['adam', 'adamw', 'sgd'].includes(optimizer)) throw new UsageError(`--optimizer must be adam, adamw or sgd, got '${optimizer}'`);
  const lrSchedule = stringFlag(values, 'lr-schedule', 'constant');
  if (!(LR_SCHEDULES as readonly string[]).includes(lrSchedule)) throw new UsageError(`--lr-schedule must be one of ${LR_SCHEDULES.join(', ')}, got '${lrSchedule}'`);
  const threshold = values['threshold'] === undefined ? undefined : numberFlag(values, 'threshold', undefined, { min: 0 });
  const config: PruneConfig = {
    method,
    criterion: parseCriterion(stringFlag(values, 'criterion', 'magnitude')),
    sparsity: numberFlag(values, 'sparsity', 0.9, { min: 0, max: 1, exclusiveMax: true }),
    scope: parseScope(stringFlag(values, 'scope', 'global')),
    granularity: parseGranularity(stringFlag(values, 'granularity', 'weight')),
    exclude: listFlag(values, 'exclude', []),
    epochs: numberFlag(values, 'epochs', 4, { min: 0, integer: true }),
    batchSize: numberFlag(values, 'batch', 128, { min: 1, integer: true }),
    lr: numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true }),
    optimizer: optimizer as 'adam' | 'adamw' | 'sgd',
    lrSchedule: lrSchedule as LrScheduleName,
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
    gradientBatches: numberFlag(values, 'gradient-batches', 10, { min: 1, integer: true }),
    rounds: numberFlag(values, 'rounds', 3, { min: 1, integer: true }),
    ...(threshold === undefined ? {} : { threshold }),
    ...(values['distill'] === true
      ? {
          distill: {
            alpha: numberFlag(values, 'distill-alpha', 0.5, { min: 0, max: 1 }),
            temperature: numberFlag(values, 'distill-temperature', 4, { min: 0, exclusiveMin: true }),
          },
        }
      : {}),
  };
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  const outPath = optionalString(values, 'out');
  const backend = trainingBackend(values, out);
  const model = await loadModel(stringFlag(values, 'model'));
  const data = loadData(stringFlag(values, 'data', 'digits'), out);
  const before = evaluate(model, data.test);
  out.note(`loaded model: test accuracy ${percent(before.accuracy)} before pruning`);

  let sweep: ReturnType<typeof sweepPruning> | null = null;
  if (THRESHOLD_METHODS.includes(method) && config.threshold === undefined) {
    const defaults = method === 'l1' ? [1e-4, 3e-4, 1e-3, 3e-3, 1e-2] : [0.25, 0.5, 1, 1.5, 2, 3];
    const tolerance = numberFlag(values, 'tolerance', 0.01, { min: 0, max: 1, exclusiveMax: true });
    out.note(`no --threshold given: sweeping ${defaults.length} candidates on a validation split (tolerance ${percent(tolerance, 1)})`);
    sweep = withBackend(backend, () => sweepPruning(model, data.train, config, {
      candidates: numberListFlag(values, 'candidates', defaults),
      tolerance,
      onRow: (row) => out.note(`  candidate ${row.value}: sparsity ${percent(row.sparsity)}, validation ${percent(row.accuracy)}`),
    }));
    const chosen = sweep.chosen ?? sweep.rows[0]!;
    if (sweep.chosen === null) out.note(`no candidate kept validation accuracy within tolerance; using the mildest (${chosen.value})`);
    else out.note(`chosen threshold ${chosen.value} (validation ${percent(chosen.accuracy)} vs dense ${percent(sweep.baseline)})`);
    config.threshold = chosen.value;
  }

  const reporter = trainingReporter(out, method);
  const started = Date.now();
  const result = withBackend(backend, () => runPruning(model, { train: data.train }, config, {
    onNote: (text) => out.note(text),
    onProgress: (e) => reporter.onProgress(e),
    onEpoch: (s) => reporter.onEpoch(s),
  }));
  out.endProgress();
  const after = evaluate(result.model, data.test);
  const report = sparsityReport(result.model);
  const summary: Record<string, unknown> = {
    testAccuracy: after.accuracy,
    testLoss: after.loss,
    denseTestAccuracy: before.accuracy,
    sparsity: result.sparsity,
    method,
    criterion: config.criterion,
    scope: config.scope,
    granularity: stringFlag(values, 'granularity', 'weight'),
    epochs: config.epochs,
    seconds: (Date.now() - started) / 1000,
    backend,
    layers: report.layers,
    total: report.total,
    ...(config.threshold === undefined ? {} : { threshold: config.threshold }),
    ...(sweep === null ? {} : { sweep: { baseline: sweep.baseline, tolerance: sweep.tolerance, rows: sweep.rows } }),
  };
  if (outPath !== undefined) {
    const bytes = await saveModelTo(outPath, result.model, encoding, {
      training: { command: 'prune', method, criterion: config.criterion, sparsity: result.sparsity, epochs: config.epochs, seed: config.seed, backend, testAccuracy: after.accuracy },
    });
    summary['out'] = outPath;
    summary['fileBytes'] = bytes;
    out.note(`saved ${outPath} (${kib(bytes)})`);
  }
  out.result(table(report.layers.map((l) => ({ layer: l.name, shape: l.shape.join('x'), nnz: l.nnz, sparsity: percent(l.sparsity), 'KiB dense': (l.bytesDense / 1024).toFixed(1), 'KiB CSR': (l.bytesSparse / 1024).toFixed(1) })), ['layer', 'shape', 'nnz', 'sparsity', 'KiB dense', 'KiB CSR']));
  out.result(`test accuracy ${percent(after.accuracy)} at ${percent(result.sparsity)} sparsity (dense: ${percent(before.accuracy)})`);
  out.emitJson(summary);
}
