/**
 * ONNX export with sparse initializers: a 95 %-sparse LeNet-300-100 goes out at least 8× smaller than with
 * dense initializers (issue 13), onnxruntime-node loads it and predicts the classes sparsegrad predicts on
 * 2,000 digits, and the file's structure is what onnx.proto prescribes (decoded by the library's reader).
 */
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileModelBytesSync } from '../../src/infer/index.ts';
import { csrToDense, deserializeModel } from '../../src/io/model-file.ts';
import { decodeOnnxModel } from '../../src/io/onnx/onnx-graph.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { loadDigits } from '../../src/node/data.ts';

const MODEL = readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url));

function argmax(logits: Float32Array, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    return best;
  });
}

describe('exportOnnx: sparse initializers', () => {
  const record = deserializeModel(MODEL);
  const params = new Map([...record.params].map(([n, p]) => [n, p.dense ?? csrToDense(p.csr!)] as const));

  it('make a 95 %-sparse LeNet-300-100 at least 8× smaller, and onnxruntime predicts the same classes', async () => {
    const sparse = exportOnnx(record.spec, params);
    const dense = exportOnnx(record.spec, params, { sparseInitializers: 'never' });
    const ratio = dense.length / sparse.length;
    console.log(`LeNet-300-100 @ 95 %: ONNX ${(dense.length / 1024).toFixed(0)} KiB dense, ${(sparse.length / 1024).toFixed(0)} KiB with sparse initializers (${ratio.toFixed(1)}× smaller); model file ${(MODEL.length / 1024).toFixed(0)} KiB`);
    expect(ratio).toBeGreaterThanOrEqual(8);

    const { test } = loadDigits();
    const count = 2000;
    const x = test.x.slice(0, count * 784);
    const ours = compileModelBytesSync(MODEL, { backend: 'js' }).predictClasses(x, count);
    for (const bytes of [sparse, dense]) {
      const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        const output = await session.run({ x: new Tensor('float32', x, [count, 784]) });
        expect(argmax(output['logits']!.data as Float32Array, 10)).toEqual(Array.from(ours));
      } finally {
        await session.release();
      }
    }
  });

  it('writes weights as SparseTensorProto (values, increasing INT64 indices, dims) and biases dense', () => {
    const decoded = decodeOnnxModel(exportOnnx(record.spec, params));
    expect([...decoded.sparseInitializers.keys()]).toEqual(['layers.0.weight', 'layers.2.weight', 'layers.4.weight']);
    expect([...decoded.initializers.keys()]).toEqual(['layers.0.bias', 'layers.2.bias', 'layers.4.bias']);
    const first = decoded.sparseInitializers.get('layers.0.weight')!;
    expect(first.dims).toEqual([300, 784]);
    const dense = params.get('layers.0.weight')!;
    expect(first.values.length).toBe(dense.filter((v) => v !== 0).length);
    first.linearIndices.forEach((index, k) => expect(dense[index]).toBe(first.values[k]));
    // 'always' writes even a dense weight sparse, 'never' writes every weight dense; both load in onnxruntime.
    expect(decodeOnnxModel(exportOnnx(record.spec, params, { sparseInitializers: 'never' })).sparseInitializers.size).toBe(0);
  });

  it('onnxruntime runs a fully pruned layer written as an empty sparse initializer', async () => {
    const spec = { layers: [{ type: 'linear' as const, inFeatures: 4, outFeatures: 3, bias: true }] };
    const weights = new Map([['layers.0.weight', new Float32Array(12)], ['layers.0.bias', Float32Array.of(1, 2, 3)]]);
    const session = await InferenceSession.create(exportOnnx(spec, weights, { sparseInitializers: 'always' }));
    try {
      const output = await session.run({ x: new Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4]) });
      expect(Array.from(output['logits']!.data as Float32Array)).toEqual([1, 2, 3]);
    } finally {
      await session.release();
    }
  });
});
