// The int8 backend as a whole: against the float64 network (within 8-bit rounding), bit-identical across
// batch sizes, panel/vector paths and dense/CSR kernels (the integer sums are exact, the rescaling is the same
// float32 operations), the non-finite input rule, and the accuracy target of issue 14 on the built-in digits.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { compileModel } from '../../../src/compile/index.ts';
import { Adam, fit, mlp } from '../../../src/nn/index.ts';
import { loadDigits } from '../../../src/node/data.ts';
import { compileInference, type Activation } from '../../../src/sparse/index.ts';
import { int8KernelsSupported } from '../../../src/sparse/backends/wasm-int8/kernels.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { forwardReference, makeLayers, randomVector } from '../../reference/sparse.ts';

const BATCHES = [1, 2, 5, 6, 15, 16, 17, 33, 64];

describe.runIf(int8KernelsSupported())("the 'wasm-int8' backend", () => {
  const rng = new Rng(41);
  const networks: { name: string; sizes: number[]; densities: number[]; activations: Activation[] }[] = [
    { name: 'LeNet-like 95 % sparse', sizes: [78, 30, 10, 4], densities: [0.05, 0.05, 0.3], activations: ['relu', 'relu', 'none'] },
    { name: 'mixed densities and activations', sizes: [19, 33, 7, 5], densities: [1, 0.5, 0.2], activations: ['tanh', 'sigmoid', 'none'] },
    { name: 'odd and prime widths, dense', sizes: [17, 15, 16, 3], densities: [1, 1, 1], activations: ['relu', 'relu', 'none'] },
    { name: 'one layer, nothing kept', sizes: [6, 3], densities: [0], activations: ['relu'] },
    { name: 'one input, one output', sizes: [1, 1], densities: [1], activations: ['none'] },
  ];
  for (const net of networks) {
    it(`${net.name}: within 8-bit rounding of the float64 network, the same bits for every batch, path and kernel`, () => {
      const layers = makeLayers(net.sizes, net.densities, net.activations, rng);
      const models = (['auto', 'dense', 'csr'] as const).map((strategy) => compileInference(layers, { backend: 'wasm-int8', strategy }));
      expect(models[0]!.backend).toBe('wasm-int8');
      const nIn = net.sizes[0]!, nOut = net.sizes[net.sizes.length - 1]!;
      for (const batch of BATCHES) {
        const x = randomVector(batch * nIn, rng);
        const expected = forwardReference(layers, x, batch);
        const scale = Math.max(1, ...Array.from(expected, Math.abs));
        const first = models[0]!.predict(x, batch).slice();
        for (let i = 0; i < first.length; i++) {
          if (!(Math.abs(first[i]! - expected[i]!) <= 0.05 * scale)) expect.fail(`batch ${batch}, output ${i}: ${first[i]} vs ${expected[i]}`);
        }
        for (const model of models.slice(1)) expect(Array.from(model.predict(x, batch))).toEqual(Array.from(first));
        // Each sample alone (batch 1, the vector path) gives the same bits as inside the batch.
        for (const s of [0, batch - 1]) expect(Array.from(models[0]!.predict(x.slice(s * nIn, (s + 1) * nIn), 1))).toEqual(Array.from(first.subarray(s * nOut, (s + 1) * nOut)));
      }
    });
  }

  it('a sample whose input holds a NaN or ±Infinity gets NaN logits; the others are unaffected', () => {
    const layers = makeLayers([10, 8, 3], [0.5, 1], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-int8' });
    const x = randomVector(20 * 10, rng);
    const clean = model.predict(x, 20).slice();
    x[3 * 10 + 4] = NaN;
    x[17 * 10] = -Infinity;
    const y = model.predict(x, 20);
    for (let s = 0; s < 20; s++) {
      for (let c = 0; c < 3; c++) {
        if (s === 3 || s === 17) expect(y[s * 3 + c]).toBeNaN();
        else expect(y[s * 3 + c]).toBe(clean[s * 3 + c]);
      }
    }
    expect(Array.from(model.predictClasses(x, 20)).filter((c) => c === -1)).toHaveLength(2);
  });

  it('reports its kernels and refuses bsr4x1 and autotune', () => {
    const layers = makeLayers([300, 100, 10], [0.05, 1], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-int8' });
    expect(model.kernels(64)).toEqual(['csr', 'dense']);
    expect(model.threads ?? 1).toBe(1);
    expect(() => compileInference(layers, { backend: 'wasm-int8', strategy: 'bsr4x1' })).toThrow(ConfigError);
  });

  it('keeps the accuracy of a digits model within 0.3 points of the float model (issue 14 target)', () => {
    const { train, test } = loadDigits();
    const model = mlp([784, 100, 10], { seed: 1 });
    fit(model, train, { epochs: 3, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 2e-3 }), seed: 1 });
    const accuracy = (backend: 'wasm-simd' | 'wasm-int8'): number => {
      const classes = compileModel(model, { backend }).predictClasses(test.x, test.count);
      let right = 0;
      for (let s = 0; s < test.count; s++) if (classes[s] === test.y[s]) right++;
      return right / test.count;
    };
    const float = accuracy('wasm-simd');
    const int8 = accuracy('wasm-int8');
    expect(float).toBeGreaterThan(0.85);
    expect(Math.abs(int8 - float)).toBeLessThanOrEqual(0.003);
  });
});
