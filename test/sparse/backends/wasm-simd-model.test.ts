// The WebAssembly SIMD backend of compileInference: same outputs as the float64 network (float32
// accumulation, so within 1e-5 relative), same classes as the TypeScript backend, every batch-tail case
// (vectors, padded panel), all activations, forced and automatic kernels, and its errors.
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, UnsupportedError } from '../../../src/errors.ts';
import { compileInference, csrFromDense, preferSkipZeros, TAIL_PANEL_MIN, WASM_COST_MODEL, wasmSimdSupported, WasmSparseModel, type Activation } from '../../../src/sparse/index.ts';
import { sellFromCsr, SELL_MAX_INPUTS } from '../../../src/sparse/backends/wasm-simd/sell.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { forwardReference, makeLayers, maxRelativeError, randomVector } from '../../reference/sparse.ts';

// 1–5: vectors only; 6, 7, 15: one padded panel; 16: one panel; 17–21: a panel and vectors; 22, 37: padded
// (TAIL_PANEL_MIN = 6).
const BATCHES = [1, 2, 3, 5, 6, 7, 15, 16, 17, 21, 22, 37, 64];

describe.runIf(wasmSimdSupported())("compileInference, backend 'wasm-simd'", () => {
  const rng = new Rng(47);
  const networks: { name: string; sizes: number[]; densities: number[]; activations: Activation[] }[] = [
    { name: 'LeNet-like 95 % sparse', sizes: [78, 30, 10, 4], densities: [0.05, 0.05, 0.05], activations: ['relu', 'relu', 'none'] },
    { name: 'mixed densities and activations', sizes: [19, 33, 7, 5], densities: [1, 0.5, 0.2], activations: ['tanh', 'sigmoid', 'none'] },
    { name: 'widening layers', sizes: [5, 40, 61], densities: [0.7, 0.1], activations: ['relu', 'none'] },
    { name: 'one layer, nothing kept', sizes: [6, 3], densities: [0], activations: ['relu'] },
    { name: 'one input, one output', sizes: [1, 1], densities: [1], activations: ['none'] },
  ];
  for (const net of networks) {
    for (const strategy of ['auto', 'dense', 'csr', 'bsr4x1'] as const) {
      it(`${net.name}, strategy ${strategy}: equals the float64 network within 1e-5 at every batch-tail case`, () => {
        const layers = makeLayers(net.sizes, net.densities, net.activations, rng);
        const model = compileInference(layers, { backend: 'wasm-simd', strategy });
        expect(model).toBeInstanceOf(WasmSparseModel);
        expect(model.backend).toBe('wasm-simd');
        const js = compileInference(layers, { strategy: 'dense' });
        const nOut = net.sizes[net.sizes.length - 1]!;
        for (const batch of BATCHES) {
          const x = randomVector(batch * net.sizes[0]!, rng);
          const y = model.predict(x, batch);
          expect(y.length).toBe(batch * nOut);
          expect(maxRelativeError(y, forwardReference(layers, x, batch))).toBeLessThan(1e-5);
          const classes = Array.from(model.predictClasses(x, batch));
          const jsClasses = Array.from(js.predictClasses(x, batch));
          expect(classes).toEqual(jsClasses);
        }
      });
    }
  }

  it('runs 4×1-block-pruned layers on the BSR kernels (auto), panels and vectors, every batch-tail case', () => {
    // 90 % of the 4×1 blocks pruned; 301 outputs, so the last block row has one real row.
    const layers = makeLayers([160, 301, 10], [1, 1], ['relu', 'none'], rng);
    const w = layers[0]!.weight;
    for (let r = 0; 4 * r < 301; r++) for (let j = 0; j < 160; j++) {
      if (rng.uniform() < 0.9) for (let t = 0; t < 4 && 4 * r + t < 301; t++) w[(4 * r + t) * 160 + j] = 0;
    }
    const model = compileInference(layers, { backend: 'wasm-simd' });
    expect(model.kernels(1)[0]).toBe('bsr4x1');
    expect(model.kernels(16)[0]).toBe('bsr4x1');
    for (const batch of BATCHES) {
      const x = randomVector(batch * 160, rng);
      expect(maxRelativeError(model.predict(x, batch), forwardReference(layers, x, batch))).toBeLessThan(1e-5);
    }
  });

  it('runs vectors of a layer wider than SELL-4 can address (16-bit column offsets) on the scalar CSR gather', () => {
    const inFeatures = SELL_MAX_INPUTS + 17;
    const layers = makeLayers([inFeatures, 3], [0.01], ['relu'], rng);
    expect(() => sellFromCsr(csrFromDense(layers[0]!.weight, 3, inFeatures))).toThrow(ShapeError);
    const model = compileInference(layers, { backend: 'wasm-simd' });
    expect(model.kernels(1)).toEqual(['csr']);
    for (const batch of [1, 3, 16]) {
      const x = randomVector(batch * inFeatures, rng);
      expect(maxRelativeError(model.predict(x, batch), forwardReference(layers, x, batch))).toBeLessThan(1e-5);
    }
  });

  it('skips zero inputs at batch 1 when that is cheaper, with the same result', () => {
    const layers = makeLayers([200, 60, 10], [0.2, 0.3], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-simd' });
    const x = randomVector(200, rng).map((v, j) => (j % 5 === 0 ? v : 0)); // 80 % zeros, like image background
    const nnz = layers[0]!.weight.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    expect(preferSkipZeros(WASM_COST_MODEL, nnz, 200, 40)).toBe(true);
    expect(preferSkipZeros(WASM_COST_MODEL, nnz, 200, 200)).toBe(false);
    expect(model.kernels(1)[0]).toBe('csr');
    expect(maxRelativeError(model.predict(x, 1), forwardReference(layers, x, 1))).toBeLessThan(1e-5);
    const dense = randomVector(200, rng);
    expect(maxRelativeError(model.predict(dense, 1), forwardReference(layers, dense, 1))).toBeLessThan(1e-5);
  });

  it('accepts Float64Array inputs and gives the same logits as the same values in float32', () => {
    const layers = makeLayers([12, 8, 3], [0.5, 1], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-simd' });
    const x32 = randomVector(5 * 12, rng);
    const a = model.predict(x32, 5).slice();
    expect(Array.from(model.predict(Float64Array.from(x32), 5))).toEqual(Array.from(a));
  });

  it('keeps padding samples from leaking into real ones after a larger batch used the shared scratch', () => {
    const layers = makeLayers([10, 6, 4], [1, 1], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-simd' });
    model.predict(randomVector(32 * 10, rng).map((v) => v * 1e6), 32);
    const small = randomVector(TAIL_PANEL_MIN * 10, rng);
    expect(maxRelativeError(model.predict(small, TAIL_PANEL_MIN), forwardReference(layers, small, TAIL_PANEL_MIN))).toBeLessThan(1e-5);
  });

  it('applies an explicit mask and does not see later changes to the caller arrays', () => {
    const [layer] = makeLayers([8, 5], [1], ['none'], rng);
    const mask = Uint8Array.from({ length: 40 }, (_, i) => i % 3);
    const model = compileInference([{ ...layer!, mask }], { backend: 'wasm-simd' });
    const x = randomVector(16 * 8, rng);
    const expected = forwardReference([{ ...layer!, mask }], x, 16);
    layer!.weight.fill(7);
    expect(maxRelativeError(model.predict(x, 16), expected)).toBeLessThan(1e-5);
  });

  it('picks CSR for a 95 %-sparse layer and dense for a dense one, and reports it', () => {
    const layers = makeLayers([300, 100, 10], [0.05, 1], ['relu', 'none'], rng);
    const model = compileInference(layers, { backend: 'wasm-simd' });
    expect(model.kernels(1)).toEqual(['csr', 'dense']);
    expect(model.kernels(64)).toEqual(['csr', 'dense']);
    const report = model.report(64);
    expect(report[0]).toMatchObject({ index: 0, inFeatures: 300, outFeatures: 100, kernel: 'csr', bsrBytes: null, denseBytes: 4 * 300 * 100 });
    expect(report[0]!.estimatedNs.csr).toBeLessThan(report[0]!.estimatedNs.dense);
    expect(model.memoryBytes).toBeGreaterThan(4 * 100 * 10);
  });

  it('reuses its output buffer per batch size', () => {
    const model = compileInference(makeLayers([4, 2], [1], ['none'], rng), { backend: 'wasm-simd' });
    const x = randomVector(4, rng);
    expect(model.predict(x, 1)).toBe(model.predict(x, 1));
  });

  it('validates like the TypeScript backend and names what it cannot do', () => {
    const good = makeLayers([4, 3, 2], [1, 1], ['relu', 'none'], rng);
    expect(() => compileInference([], { backend: 'wasm-simd' })).toThrow(ConfigError);
    expect(() => compileInference([{ ...good[0]!, weight: new Float32Array(11) }], { backend: 'wasm-simd' })).toThrow(/weight has 11 elements, expected \[3, 4\] = 12/);
    expect(() => compileInference(good, { backend: 'wasm-simd', strategy: 'autotune' })).toThrow(/strategy 'autotune' is not available with backend 'wasm-simd'/);
    expect(() => compileInference(good, { backend: 'gpu' as 'js' })).toThrow(/unknown backend 'gpu'/);
    const model = compileInference(good, { backend: 'wasm-simd' });
    expect(() => model.predict(new Float32Array(7), 2)).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(4), 0)).toThrow(/batch must be a positive integer/);
  });
});

describe("compileInference, backend 'wasm-simd', on an engine without WebAssembly", () => {
  it('throws UnsupportedError naming the fallback', () => {
    const layers = makeLayers([4, 2], [1], ['none'], new Rng(1));
    const global = globalThis as { WebAssembly?: unknown };
    const saved = global.WebAssembly;
    delete global.WebAssembly;
    try {
      expect(wasmSimdSupported()).toBe(false);
      expect(() => compileInference(layers, { backend: 'wasm-simd' })).toThrow(UnsupportedError);
      expect(() => compileInference(layers, { backend: 'wasm-simd' })).toThrow(/needs WebAssembly with SIMD.*use backend 'js'/);
      expect(compileInference(layers).predict(new Float32Array(4), 1)).toHaveLength(2);
    } finally {
      global.WebAssembly = saved;
    }
    expect(wasmSimdSupported()).toBe(true);
  });
});
