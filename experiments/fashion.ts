/**
 * Fashion-MNIST pruning experiments (issue: accuracy targets vs the PyTorch recipe). Long-running: run it
 * in the background; every finished run is written to experiments/results/fashion/<name>.json at once, and
 * runs whose file exists are skipped, so the script can be stopped and resumed.
 *
 *   npx tsx experiments/fashion.ts [--data DIR] [--only name,name] [--list]
 *
 * Recipe (as in the issue): LeNet-300-100, 15 dense epochs of Adam lr 1e-3 batch 128; then prune with
 * 8 epochs for gradual schedules and 4 epochs of fine-tuning after one-shot pruning.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { modelFromRecord, modelToRecord } from '../src/io/model-adapter.ts';
import { Adam, cloneModel, evaluate, fit, mlp } from '../src/nn/index.ts';
import { FASHION_MNIST_DIR, loadIdxDirectory } from '../src/node/data.ts';
import { writeFileAtomically } from '../src/node/files.ts';
import { loadModelFile, saveModel } from '../src/node/model-io.ts';
import { runPruning, sparsityReport, type PruneConfig } from '../src/prune/index.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const OUT = 'experiments/results/fashion';
const SEED = 0;
const base = { scope: 'global', granularity: { kind: 'weight' }, batchSize: 128, lr: 1e-3, seed: SEED } as const;

/** The runs: the reference rows first, then candidates for the best method. */
export const RUNS: { name: string; config: PruneConfig }[] = [
  ...[0.95, 0.98, 0.99].map((s) => ({ name: `gradual-magnitude-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8 } as PruneConfig })),
  { name: 'oneshot-magnitude-0.95', config: { ...base, method: 'oneshot', criterion: 'magnitude', sparsity: 0.95, epochs: 4 } },
  { name: 'oneshot-taylor-0.95', config: { ...base, method: 'oneshot', criterion: 'taylor', sparsity: 0.95, epochs: 4 } },
  { name: 'oneshot-gradient-0.95', config: { ...base, method: 'oneshot', criterion: 'gradient', sparsity: 0.95, epochs: 4 } },
  { name: 'oneshot-gradient-epoch-0.95', config: { ...base, method: 'oneshot', criterion: 'gradient', sparsity: 0.95, epochs: 4, gradientBatches: 469 } },
  { name: 'oneshot-gradient-b1-0.95', config: { ...base, method: 'oneshot', criterion: 'gradient', sparsity: 0.95, epochs: 4, gradientBatches: 1 } },
  { name: 'oneshot-gradient-b100-0.95', config: { ...base, method: 'oneshot', criterion: 'gradient', sparsity: 0.95, epochs: 4, gradientBatches: 100 } },
  ...[0.98, 0.99].flatMap((s) => [
    { name: `gradual-magnitude-cosine-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, lrSchedule: 'cosine' } as PruneConfig },
    { name: `gradual-taylor-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8 } as PruneConfig },
    // 'dns-scheduled' is the target-sparsity rule these rows were measured with ('dns' is now the paper's rule, whose sparsity is an outcome).
    { name: `dns-${s}`, config: { ...base, method: 'dns-scheduled', criterion: 'magnitude', sparsity: s, epochs: 8 } as PruneConfig },
    { name: `rigl-${s}`, config: { ...base, method: 'rigl', criterion: 'magnitude', sparsity: s, epochs: 8 } as PruneConfig },
    { name: `gradual-magnitude-distill-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, distill: { alpha: 0.5, temperature: 4 } } as PruneConfig },
    { name: `gradual-taylor-distill-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, distill: { alpha: 0.5, temperature: 4 } } as PruneConfig },
    { name: `gradual-taylor-lr3e-3-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, lr: 3e-3 } as PruneConfig },
    { name: `gradual-magnitude-lr3e-3-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, lr: 3e-3 } as PruneConfig },
    { name: `gradual-taylor-end0.5-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, options: { endFraction: 0.5 } } as PruneConfig },
    { name: `gradual-taylor-lr5e-3-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, lr: 5e-3 } as PruneConfig },
    { name: `gradual-taylor-lr3e-3-distill-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, lr: 3e-3, distill: { alpha: 0.5, temperature: 4 } } as PruneConfig },
    { name: `gradual-taylor-lr3e-3-holdcosine-${s}`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, lr: 3e-3, lrSchedule: 'hold-cosine' } as PruneConfig },
    { name: `gradual-magnitude-holdcosine-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, lrSchedule: 'hold-cosine' } as PruneConfig },
    { name: `gradual-magnitude-distill-cosine-${s}`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, lrSchedule: 'cosine', distill: { alpha: 0.5, temperature: 4 } } as PruneConfig },
  ]),
  // A second pruning seed (shuffling order; same dense start) for the baseline and the best method, to show
  // that the gap between them is larger than seed-to-seed noise.
  ...[0.98, 0.99].flatMap((s) => [
    { name: `gradual-magnitude-${s}-seed1`, config: { ...base, method: 'gradual', criterion: 'magnitude', sparsity: s, epochs: 8, seed: 1 } as PruneConfig },
    { name: `gradual-taylor-lr3e-3-holdcosine-${s}-seed1`, config: { ...base, method: 'gradual', criterion: 'taylor', sparsity: s, epochs: 8, lr: 3e-3, lrSchedule: 'hold-cosine', seed: 1 } as PruneConfig },
  ]),
];

async function main(): Promise<void> {
  if (args.includes('--list')) {
    for (const r of RUNS) console.log(r.name);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const data = loadIdxDirectory(arg('data') ?? FASHION_MNIST_DIR, { name: 'fashion-mnist' });
  const densePath = join(OUT, 'dense.safetensors');
  let dense;
  if (existsSync(densePath)) {
    dense = modelFromRecord(await loadModelFile(densePath));
  } else {
    dense = mlp([784, 300, 100, 10], { seed: SEED });
    const started = Date.now();
    const history = fit(dense, data.train, {
      epochs: 15, batchSize: 128, optimizer: new Adam(dense.parameters(), { lr: 1e-3 }), seed: SEED,
      onEpoch: (s) => console.error(`dense epoch ${s.epoch}: loss ${s.loss.toFixed(4)} (${s.seconds.toFixed(1)} s)`),
    });
    const test = evaluate(dense, data.test);
    await saveModel(densePath, modelToRecord(dense, { training: { epochs: 15, testAccuracy: test.accuracy } }));
    await writeFileAtomically(join(OUT, 'dense.json'), JSON.stringify({ name: 'dense', testAccuracy: test.accuracy, testLoss: test.loss, seconds: (Date.now() - started) / 1000, history: history.epochs }, null, 2) + '\n');
    console.error(`dense: ${(test.accuracy * 100).toFixed(2)}%`);
  }
  const only = arg('only')?.split(',');
  for (const run of RUNS) {
    if (only !== undefined && !only.includes(run.name)) continue;
    const path = join(OUT, `${run.name}.json`);
    if (existsSync(path)) continue;
    console.error(`run ${run.name}`);
    const started = Date.now();
    const result = runPruning(cloneModel(dense), { train: data.train }, run.config, {
      onEpoch: (s, phase) => console.error(`  ${phase} epoch ${s.epoch}: loss ${s.loss.toFixed(4)} (${s.seconds.toFixed(1)} s)`),
    });
    const test = evaluate(result.model, data.test);
    const row = {
      name: run.name, config: run.config, testAccuracy: test.accuracy, testLoss: test.loss, sparsity: result.sparsity,
      seconds: (Date.now() - started) / 1000, notes: result.notes, layers: sparsityReport(result.model).layers,
      history: result.history.map((h) => ({ phase: h.phase, epoch: h.stats.epoch, loss: h.stats.loss, trainAccuracy: h.stats.accuracy })),
    };
    await writeFileAtomically(path, JSON.stringify(row, null, 2) + '\n');
    console.error(`  → ${(test.accuracy * 100).toFixed(2)}% at ${(result.sparsity * 100).toFixed(2)}%`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
