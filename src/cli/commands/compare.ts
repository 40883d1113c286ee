import { parseCriterion, parseGranularity, parseScope, pruningMethod, pruningMethods, type OptionValue } from '../../prune/index.ts';
import { comparisonChart, runComparison } from '../../study/index.ts';
import { listFlag, numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, type OptionSpec } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, loadModel, outputFlag, outputOptions, threadsFlag, threadsHelp } from '../common.ts';
import { resolveBackend } from '../../tensor/backend.ts';
import { withThreads } from '../../tensor/threads.ts';
import { methodFlagSpecs, methodOptionsFromFlags } from '../method-flags.ts';
import { createOutput, bar, percent, table } from '../output.ts';
import { writeFileAtomically } from '../../node/files.ts';

/** The compare command's own flags; method option flags come from the method registry. */
const COMMON_FLAGS: OptionSpec = {
  model: { type: 'string' }, data: { type: 'string' }, methods: { type: 'string' }, criteria: { type: 'string' }, sparsities: { type: 'string' },
  epochs: { type: 'string' }, scope: { type: 'string' }, granularity: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  seed: { type: 'string' }, 'out-json': { type: 'string' }, 'out-svg': { type: 'string' }, title: { type: 'string' },
  threads: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
};

/** `sparsegrad compare --help`, listing the registered methods that can be put on a sparsity grid. */
export function compareHelp(): string {
  const gridMethods = pruningMethods().filter((m) => m.sparsity !== 'outcome' || m.calibrate !== undefined).map((m) => m.name);
  return `usage: sparsegrad compare --model FILE [options]

Runs a grid of methods × criteria × sparsities from the same trained model, each on its own copy, and
writes a JSON table and an SVG chart of test accuracy vs sparsity.

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
${threadsHelp(21)}
  --out-json FILE    default compare.json;  --out-svg FILE  default compare.svg (both checked before the runs)
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
  const granularity = parseGranularity(stringFlag(values, 'granularity', 'weight'));
  const base = {
    granularity,
    // N:M is a per-layer rule, so its default scope is 'layer'
    scope: parseScope(stringFlag(values, 'scope', granularity.kind === 'nm' ? 'layer' : 'global')),
    epochs: numberFlag(values, 'epochs', 4, { min: 0, integer: true }),
    batchSize: numberFlag(values, 'batch', 128, { min: 1, integer: true }),
    lr: numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true }),
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
  };
  const threads = threadsFlag(values, out, resolveBackend().backend);
  const dataSpec = stringFlag(values, 'data', 'digits');
  const model = await loadModel(stringFlag(values, 'model'));
  const jsonPath = outputFlag(values, 'out-json', 'compare.json')!;
  const svgPath = outputFlag(values, 'out-svg', 'compare.svg')!;
  const data = loadData(dataSpec, out);
  const started = Date.now();
  const comparison = withThreads(threads, () => runComparison(model, data, {
    methods: methods.map((m) => m.name), criteria, sparsities, base, methodOptions,
    onRun: (label, i, n) => out.note(`[${i + 1}/${n}] ${label}`),
    onProgress: (e, label) => out.progress(`${label} epoch ${e.epoch}/${e.epochs} ${bar(e.batch / e.batches)}`),
    onRow: (row) => out.note(`  → test ${percent(row.testAccuracy)} at ${percent(row.sparsity)} sparsity (${row.seconds.toFixed(1)} s)`),
  }));
  out.endProgress();
  const title = optionalString(values, 'title') ?? `Accuracy vs sparsity (${data.train.name.split('/')[0]}, ${base.epochs} epochs per run)`;
  const document = { data: dataSpec, threads, base, methodOptions, methods: methods.map((m) => m.name), criteria, sparsities, seconds: (Date.now() - started) / 1000, ...comparison };
  await writeFileAtomically(jsonPath, JSON.stringify(document, null, 2) + '\n', outputOptions(values));
  await writeFileAtomically(svgPath, comparisonChart(comparison, title), outputOptions(values));
  out.note(`wrote ${jsonPath} and ${svgPath}`);
  out.result(table(comparison.rows.map((r) => ({ method: r.method, criterion: r.criterion, target: r.targetSparsity, sparsity: percent(r.sparsity), 'test acc': percent(r.testAccuracy) })), ['method', 'criterion', 'target', 'sparsity', 'test acc']));
  out.result(`dense: ${percent(comparison.dense.testAccuracy)}`);
  out.emitJson(document);
}
