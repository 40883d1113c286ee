/**
 * sparsegrad/infer: model-file bytes → compiled model, CSR kept as CSR, async and sync, realm-safe inputs; the
 * answers equal those of the training-side path (modelFromRecord → compileModel) on both backends.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compile/index.ts';
import { ConfigError, ModelFormatError, NonFiniteError, SparseFormatError, UnsupportedError } from '../../src/errors.ts';
import { compileInference, compileModelBytes, compileModelBytesSync, recordLayers, type InferenceModel } from '../../src/infer/index.ts';
import { deserializeModel, serializeModel } from '../../src/io/model-file.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { predict, predictClasses } from '../../src/nn/train.ts';
import { buildModel } from '../../src/nn/build.ts';
import type { ModelSpec } from '../../src/nn/spec.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { loadDigits } from '../../src/node/data.ts';
import { csrFromDense, WasmSparseModel, wasmSimdSupported } from '../../src/sparse/index.ts';
import { SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';

const SPARSE_MODEL = readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url));
const simd = wasmSimdSupported();

function classesOf(model: InferenceModel, x: Float32Array, count: number): Int32Array {
  return model.predictClasses(x, count).slice();
}

describe('compileModelBytes', () => {
  const { test } = loadDigits();
  const x = test.x.subarray(0, 500 * 784);
  const reference = predictClasses(modelFromRecord(deserializeModel(SPARSE_MODEL)), x, 500);

  it.runIf(simd)('compiles the pruned example model on the SIMD kernels asynchronously, CSR kept sparse, same classes', async () => {
    const model = await compileModelBytes(SPARSE_MODEL);
    expect(model.backend).toBe('wasm-simd');
    expect(model.kernels(1).slice(0, 2)).toEqual(['csr', 'csr']); // the 10×100 output layer, 60 % dense, may run dense
    // The weights live only in their sparse form: the module's memory is far below the dense weights' 1 MiB.
    expect((model as WasmSparseModel).memoryBytes).toBeLessThan(0.4 * 4 * (784 * 300 + 300 * 100 + 100 * 10));
    expect(Array.from(classesOf(model, x, 500))).toEqual(Array.from(reference));
  });

  it('runs on the TypeScript kernels when asked, synchronously too, with the same classes', async () => {
    const asyncModel = await compileModelBytes(SPARSE_MODEL, { backend: 'js' });
    const syncModel = compileModelBytesSync(SPARSE_MODEL, { backend: 'js', batch: 64 });
    expect(asyncModel.backend).toBe('js');
    expect(Array.from(classesOf(asyncModel, x, 500))).toEqual(Array.from(reference));
    expect(Array.from(classesOf(syncModel, x, 500))).toEqual(Array.from(reference));
  });

  it('gives the logits of the training-side path on a small dense, masked and CSR model', () => {
    for (const options of [{}, { sparsity: 0.5, masks: true }, { sparsity: 0.6, csr: true }] as const) {
      const bytes = serializeModel(sampleRecord(SMALL_SPEC, { seed: 9, ...options }), { encoding: 'csr' in options ? 'csr' : 'dense' });
      const input = Float32Array.from({ length: 7 * 6 }, (_, i) => Math.sin(i));
      const expected = compileModel(modelFromRecord(deserializeModel(bytes)), { backend: 'js' }).predict(input, 7).slice();
      const got = compileModelBytesSync(bytes, { backend: 'js' }).predict(input, 7);
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 5);
    }
  });

  it('accepts inputs made in another realm (an iframe, vm)', async () => {
    const model = compileModelBytesSync(SPARSE_MODEL, { backend: 'js' });
    const foreign = runInNewContext('new Float32Array(784)') as Float32Array;
    foreign.set(x.subarray(0, 784));
    expect(foreign instanceof Float32Array).toBe(false);
    expect(model.predictClasses(foreign, 1)[0]).toBe(reference[0]);
    if (simd) expect((await compileModelBytes(SPARSE_MODEL)).predictClasses(foreign, 1)[0]).toBe(reference[0]);
    const foreignBytes = runInNewContext('new Uint8Array(n)', { n: SPARSE_MODEL.length }) as Uint8Array;
    foreignBytes.set(SPARSE_MODEL);
    expect(compileModelBytesSync(foreignBytes, { backend: 'js' }).predictClasses(x.subarray(0, 784), 1)[0]).toBe(reference[0]);
  });

  it('refuses a corrupt file with the loader\'s typed error, and a backend this engine cannot run', async () => {
    await expect(compileModelBytes(SPARSE_MODEL.subarray(0, 1000))).rejects.toThrow(ModelFormatError);
    await expect(compileModelBytes(SPARSE_MODEL, { backend: 'no-such-backend' })).rejects.toThrow(ConfigError);
    if (!simd) await expect(compileModelBytes(SPARSE_MODEL, { backend: 'wasm-simd' })).rejects.toThrow(UnsupportedError);
  });
});

describe('recordLayers', () => {
  it('hands CSR weights over as CSR and dense ones with their masks, activations fused', () => {
    const record = sampleRecord(SMALL_SPEC, { seed: 3, sparsity: 0.5, masks: true });
    const layers = recordLayers(record);
    expect(layers.map((l) => l.activation)).toEqual(['relu', 'tanh', 'none']);
    expect(layers.every((l) => 'weight' in l && l.mask !== undefined)).toBe(true);
    const csrLayers = recordLayers(deserializeModel(serializeModel(record, { encoding: 'csr' })));
    expect(csrLayers.every((l) => 'csr' in l)).toBe(true);
  });

  it('refuses what cannot be fused: an activation first, or two different activations in a row', () => {
    const linear = { type: 'linear', inFeatures: 2, outFeatures: 2, bias: false } as const;
    const params = new Map([['layers.1.weight', { shape: [2, 2], dense: new Float32Array(4) }]]);
    expect(() => recordLayers({ spec: { layers: [{ type: 'relu' }, linear] }, params })).toThrow(/before any linear layer/);
    const params0 = new Map([['layers.0.weight', { shape: [2, 2], dense: new Float32Array(4) }]]);
    expect(() => recordLayers({ spec: { layers: [linear, { type: 'relu' }, { type: 'tanh' }] }, params: params0 })).toThrow(/cannot be fused/);
    expect(recordLayers({ spec: { layers: [linear, { type: 'relu' }, { type: 'relu' }] }, params: params0 })[0]!.activation).toBe('relu');
  });
});

describe('compileInference with CSR layers', () => {
  const csr = { nRows: 2, nCols: 3, indptr: Int32Array.of(0, 1, 3), indices: Int32Array.of(2, 0, 1), values: Float32Array.of(2, -1, 4) };

  it('computes act(x·Wᵀ + b) from the CSR form on every backend', () => {
    for (const backend of simd ? ['js', 'wasm-simd'] : ['js']) {
      const model = compileInference([{ csr, bias: Float32Array.of(0.5, 0), activation: 'relu' }], { backend });
      const y = model.predict(Float32Array.of(1, 2, 3, -1, 0, 1), 2);
      // row 0: 2·x2 + 0.5; row 1: −x0 + 4·x1, then ReLU
      expect(Array.from(y)).toEqual([6.5, 7, 2.5, 1]);
    }
  });

  it('plans a CSR layer exactly as its dense twin, 4×1 blocks included (counted without a dense copy)', () => {
    // 8×6 with 4×1 blocks: rows 0–3 use columns 1 and 4, rows 4–7 column 2; plus an unstructured 5×7 layer.
    const blocky = new Float32Array(48);
    for (let r = 0; r < 8; r++) for (const c of r < 4 ? [1, 4] : [2]) blocky[r * 6 + c] = r + c + 1;
    const scattered = Float32Array.from({ length: 35 }, (_, i) => (i % 4 === 0 ? i + 1 : 0));
    for (const [weight, outFeatures, inFeatures] of [[blocky, 8, 6], [scattered, 5, 7]] as const) {
      const dense = compileInference([{ weight, outFeatures, inFeatures, bias: null, activation: 'none' }], { backend: 'js' });
      const csrLayer = { csr: csrFromDense(weight, outFeatures, inFeatures), bias: null, activation: 'none' as const };
      const sparse = compileInference([csrLayer], { backend: 'js' });
      expect(sparse.report(1)).toEqual(dense.report(1));
      expect(sparse.report(64)).toEqual(dense.report(64));
    }
  });

  it('copies the arrays, checks the structure and the values', () => {
    const values = csr.values.slice();
    const model = compileInference([{ csr: { ...csr, values }, bias: null, activation: 'none' }], { backend: 'js' });
    values.fill(100);
    expect(Array.from(model.predict(Float32Array.of(1, 1, 1), 1))).toEqual([2, 3]);
    expect(() => compileInference([{ csr: { ...csr, indices: Int32Array.of(2, 1, 0) }, bias: null, activation: 'none' }])).toThrow(SparseFormatError);
    expect(() => compileInference([{ csr: { ...csr, values: Float32Array.of(1, NaN, 1) }, bias: null, activation: 'none' }])).toThrow(/csr.values\[1\] \(row 1, column 0\) is NaN/);
    expect(() => compileInference([{ csr, bias: Float32Array.of(1, Infinity), activation: 'none' }])).toThrow(NonFiniteError);
    expect(() => compileInference([{ csr, bias: null, activation: 'none' }, { csr, bias: null, activation: 'none' }])).toThrow(/expects 3 inputs but layer 0 gives 2/);
  });
});

describe('compileModelBytes on convolutional model files', () => {
  // conv (grouped, padded) → relu → max pool → conv → avg pool → flatten → linear → relu → linear
  const spec: ModelSpec = {
    layers: [
      { type: 'reshape', shape: [2, 11, 10] },
      { type: 'conv2d', inChannels: 2, outChannels: 4, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], groups: 2, bias: true },
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] },
      { type: 'conv2d', inChannels: 4, outChannels: 6, kernelSize: [2, 3], stride: [1, 2], padding: [0, 0], groups: 1, bias: false },
      { type: 'avgpool2d', kernelSize: [2, 1], stride: [2, 1], padding: [0, 0] },
      { type: 'flatten' },
      { type: 'linear', inFeatures: 24, outFeatures: 8, bias: true },
      { type: 'relu' },
      { type: 'linear', inFeatures: 8, outFeatures: 3, bias: true },
    ],
  };
  const model = buildModel(spec, new Rng(5));
  const rng = new Rng(6);
  for (const p of model.parameters()) p.value.data.forEach((_, i, data) => { if (rng.uniform() < 0.6) data[i] = 0; });
  const input = Float32Array.from({ length: 5 * 220 }, (_, i) => Math.sin(i) + 0.3);
  const expected = predict(model, input, 5).data;

  for (const backend of simd ? ['js', 'wasm-simd'] : ['js']) {
    it(`runs dense and CSR conv model files on ${backend} with the training model's logits`, () => {
      for (const encoding of ['dense', 'csr'] as const) {
        const bytes = serializeModel(modelToRecord(model, { encoding }));
        const compiled = compileModelBytesSync(bytes, { backend });
        expect(compiled.kernels(5)).toHaveLength(4);
        const got = compiled.predict(input, 5);
        for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 5);
      }
    });
  }

  it('refuses a pooling layer that does not follow a convolution, and an activation after average pooling', () => {
    const params = modelToRecord(model).params;
    const poolTwice = { layers: [...spec.layers.slice(0, 4), { type: 'maxpool2d', kernelSize: [1, 1], stride: [1, 1], padding: [0, 0] } as const] };
    expect(() => recordLayers({ spec: poolTwice, params })).toThrow(/fuses a pooling layer into the convolution right before it/);
    const reluAfterAvg = { layers: [...spec.layers.slice(0, 6), { type: 'relu' } as const] };
    expect(() => recordLayers({ spec: reluAfterAvg, params })).toThrow(/after average pooling cannot be fused/);
  });
});
