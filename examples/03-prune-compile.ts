// Prune a trained model with gradual magnitude pruning, then compile it into sparse kernels and check
// that it predicts exactly like the masked dense model — only faster.
import { Adam, compileModel, evaluate, fit, mlp, predictClasses, runPruning, sparsityReport, wasmSimdSupported } from 'sparsegrad';
import { loadDigits } from 'sparsegrad/node';

const epochs = Number(process.env['EPOCHS'] ?? 3);
const { train, test } = loadDigits();
const model = mlp([784, 300, 100, 10], { seed: 0 });
fit(model, train, { epochs, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0 });

const result = runPruning(model, { train }, {
  method: 'gradual', criterion: 'magnitude', sparsity: 0.95, scope: 'global', granularity: { kind: 'weight' },
  epochs: Math.max(1, epochs - 1), batchSize: 128, lr: 1e-3, seed: 0,
});
console.log(`pruned to ${(result.sparsity * 100).toFixed(1)}%: test accuracy ${(evaluate(result.model, test).accuracy * 100).toFixed(2)}%`);
console.log('bytes dense vs CSR:', sparsityReport(result.model).total.bytesDense, sparsityReport(result.model).total.bytesSparse);

const sparse = compileModel(result.model);
console.log('kernels at batch 1:', sparse.kernels(1).join(', '));
const dense = predictClasses(result.model, test.x, test.count);
const fast = sparse.predictClasses(test.x, test.count);
console.log('same predictions:', dense.every((c, i) => c === fast[i]));

// The same model on the WebAssembly SIMD kernels (opt-in; float32 accumulation, ~10× faster at batch ≥ 16).
if (wasmSimdSupported()) {
  const simd = compileModel(result.model, { backend: 'wasm-simd' });
  const simdClasses = simd.predictClasses(test.x, test.count);
  console.log('wasm-simd kernels at batch 64:', simd.kernels(64).join(', '), '— same predictions:', dense.every((c, i) => c === simdClasses[i]));
}
