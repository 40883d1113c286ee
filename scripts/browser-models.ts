/**
 * Builds the two model files the browser example (examples/browser/) fetches, deterministically:
 *
 *   examples/browser/models/dense.safetensors    LeNet-300-100 trained on the built-in digits (20 epochs, Adam 1e-3,
 *                                                batch 128, seed 0): the README's dense recipe, stored dense
 *   examples/browser/models/sparse.safetensors   the same model after gradual magnitude pruning to 95 % (global,
 *                                                4 epochs), stored CSR: what a page would ship
 *
 * Run: npx tsx scripts/browser-models.ts   (about a minute on 2 cores, on the WebAssembly SIMD kernels)
 */
import { Adam, evaluate, fit, mlp, modelToRecord, runPruning } from '../src/index.ts';
import { loadDigits, saveModel } from '../src/node/index.ts';

const out = new URL('../examples/browser/models/', import.meta.url).pathname;
const { train, test } = loadDigits();
const dense = mlp([784, 300, 100, 10], { seed: 0 });
fit(dense, train, { epochs: 20, batchSize: 128, optimizer: new Adam(dense.parameters(), { lr: 1e-3 }), seed: 0 });
const denseAccuracy = evaluate(dense, test).accuracy;
await saveModel(`${out}dense.safetensors`, modelToRecord(dense, { encoding: 'dense', training: { recipe: 'digits, 20 epochs, Adam 1e-3, batch 128, seed 0', testAccuracy: denseAccuracy } }), { encoding: 'dense' });

const pruned = runPruning(dense, { train }, {
  method: 'gradual', criterion: 'magnitude', sparsity: 0.95, scope: 'global', granularity: { kind: 'weight' },
  epochs: 4, batchSize: 128, lr: 1e-3, seed: 0,
});
const sparseAccuracy = evaluate(pruned.model, test).accuracy;
await saveModel(`${out}sparse.safetensors`, modelToRecord(pruned.model, {
  encoding: 'auto', training: { recipe: 'gradual magnitude pruning to 95 %, global, 4 epochs, from dense.safetensors', sparsity: pruned.sparsity, testAccuracy: sparseAccuracy },
}), { encoding: 'auto' });
console.log(`dense: ${(denseAccuracy * 100).toFixed(2)} %, sparse (${(pruned.sparsity * 100).toFixed(1)} % pruned): ${(sparseAccuracy * 100).toFixed(2)} % test accuracy`);
