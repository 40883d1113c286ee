/**
 * Short probes of the pruning methods issue 17 made follow their papers: each runs 1–2 epochs on the
 * built-in digits from a LeNet-300-100 trained for 3 epochs here, and prints test accuracy, sparsity (total
 * and per layer) and the method's notes on connection updates and removed neurons. About 2–3 minutes on one
 * core. Not a benchmark of the methods (the digits grid in the README is): a check that each one runs as
 * documented, with numbers to compare against.
 *
 *   npx tsx experiments/method-probes.ts [group]     # group: movement, rigl, dns, threshold, l1, neuron, overrides
 */
import { Adam, cloneModel, evaluate, fit, mlp } from '../src/nn/index.ts';
import { loadDigits } from '../src/node/data.ts';
import { findTargets, runPruning, type PruneConfig } from '../src/prune/index.ts';

const only = process.argv[2];
const { train, test } = loadDigits();
const dense = mlp([784, 300, 100, 10], { seed: 0 });
fit(dense, train, { epochs: 3, batchSize: 128, optimizer: new Adam(dense.parameters(), { lr: 1e-3 }), seed: 0 });
console.log(`dense (3 epochs): test ${(100 * evaluate(dense, test).accuracy).toFixed(2)} %`);

const base: PruneConfig = { method: 'gradual', criterion: 'magnitude', sparsity: 0.9, scope: 'global', granularity: { kind: 'weight' }, epochs: 2, batchSize: 128, lr: 1e-3, seed: 0 };
const neuron = { kind: 'neuron' } as const;
const PROBES: [group: string, config: Partial<PruneConfig>][] = [
  ['movement', { method: 'gradual', criterion: 'movement' }],
  ['movement', { method: 'gradual', criterion: 'magnitude' }],
  ['movement', { method: 'oneshot', criterion: 'movement', epochs: 1 }],
  ['movement', { method: 'oneshot', criterion: 'taylor-signed', epochs: 1 }],
  ['movement', { method: 'iterative', criterion: 'movement', options: { rounds: 2 } }],
  ['rigl', { method: 'rigl', epochs: 1 }],
  ['rigl', { method: 'rigl' }],
  ['rigl', { method: 'rigl', options: { distribution: 'uniform' } }],
  ['rigl', { method: 'rigl', options: { start: 'trained' } }],
  ['dns', { method: 'dns', options: { cRate: 1 } }],
  ['dns', { method: 'dns', options: { cRate: 2 } }],
  ['dns', { method: 'dns-scheduled' }],
  ['threshold', { method: 'threshold', epochs: 1, options: { threshold: 1.5 } }],
  ['threshold', { method: 'threshold-dynamic', epochs: 1, options: { threshold: 1.5 } }],
  ['l1', { method: 'l1', epochs: 1, options: { lambda: 1e-5 } }],
  ['l1', { method: 'l1', epochs: 1, options: { lambda: 1e-4 } }],
  ['l1', { method: 'l1', epochs: 1, options: { lambda: 1e-3 } }],
  ['l1', { method: 'l1', epochs: 1, optimizer: 'sgd', lr: 0.01, options: { lambda: 1e-4 } }],
  ['l1', { method: 'l1', epochs: 1, optimizer: 'sgd', lr: 0.01, options: { lambda: 1e-3 } }],
  ['neuron', { method: 'oneshot', criterion: 'taylor', granularity: neuron, sparsity: 0.5, epochs: 1 }],
  ['neuron', { method: 'oneshot', criterion: 'taylor', granularity: neuron, scope: 'layer', sparsity: 0.5, epochs: 1 }],
  ['neuron', { method: 'oneshot', criterion: 'magnitude', granularity: neuron, sparsity: 0.5, epochs: 1 }],
  ['overrides', { method: 'gradual', overrides: { 'layers.4.weight': 0.5 } }],
  ['overrides', { method: 'iterative', overrides: { 'layers.4.weight': 0.5 } }],
];

for (const [group, extra] of PROBES) {
  if (only !== undefined && only !== group) continue;
  const config: PruneConfig = { ...base, ...extra };
  const started = Date.now();
  const result = runPruning(cloneModel(dense), { train }, config);
  const perLayer = findTargets(result.model).map((t) => {
    const w = t.weight.value.data;
    return (100 * w.filter((v) => v === 0).length / w.length).toFixed(1);
  });
  const usesCriterion = ['oneshot', 'iterative', 'gradual'].includes(config.method);
  const label = [
    usesCriterion ? `${config.method}/${config.criterion}` : config.method,
    JSON.stringify(config.options ?? {}),
    config.granularity.kind === 'weight' ? '' : `${config.granularity.kind} ${config.scope}`,
    config.optimizer === undefined ? '' : `${config.optimizer} lr ${config.lr}`,
    config.overrides === undefined ? '' : `overrides ${JSON.stringify(config.overrides)}`,
    `target ${config.sparsity}, ${config.epochs} epochs`,
  ].filter(Boolean).join(' ');
  const notes = result.notes.filter((n) => /connection updates|shrink:/.test(n)).join(' | ');
  console.log(`${label}: test ${(100 * evaluate(result.model, test).accuracy).toFixed(2)} %, sparsity ${(100 * result.sparsity).toFixed(2)} % [${perLayer.join(', ')}], ${((Date.now() - started) / 1000).toFixed(1)} s ${notes}`);
}
