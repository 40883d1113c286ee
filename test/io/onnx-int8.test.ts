/**
 * ONNX export of int8-quantized weights (issue 14): INT8 codes + per-row scales behind DequantizeLinear. The
 * graph is what the module comment says, onnxruntime-node runs it and gives the logits of the dequantized
 * float model (same classes on 500 digits), sparse INT8 initializers make a pruned model's file smaller, and
 * codes that do not stand for the weights are refused.
 */
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { compileModelBytesSync } from '../../src/infer/index.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, serializeModel } from '../../src/io/model-file.ts';
import { decodeMessage } from '../../src/io/onnx/protobuf-reader.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { int8WeightsOfRecord } from '../../src/io/onnx/int8-weights.ts';
import { loadDigits } from '../../src/node/data.ts';
import { quantizeModel } from '../../src/quantize/index.ts';

// The 95 %-sparse LeNet-300-100 of the browser example, quantized to int8 per row, through a model file.
const pruned = modelFromRecord(deserializeModel(readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url))));
const quantization = quantizeModel(pruned, { method: 'int8' });
const fileBytes = serializeModel(modelToRecord(pruned, { quantization }));
const record = deserializeModel(fileBytes);
const params = new Map(modelFromRecord(record).namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));

describe('exportOnnx: int8 weights behind DequantizeLinear', () => {
  const int8Weights = int8WeightsOfRecord(record);

  it('writes INT8 codes, scales and zero points, and onnxruntime gives the dequantized model’s logits', async () => {
    expect([...int8Weights.keys()]).toEqual(['layers.0.weight', 'layers.2.weight', 'layers.4.weight']);
    const bytes = exportOnnx(record.spec, params, { int8Weights });
    // The raw protobuf (sparsegrad's ONNX importer reads float weights only): GraphProto node 1, sparse_initializer 15.
    const graph = decodeMessage(bytes, 'ModelProto').message(7, 'graph')!;
    const nodes = graph.messages(1, 'node');
    expect(nodes.map((n) => n.string(4, 'op_type'))).toEqual(['DequantizeLinear', 'Gemm', 'Relu', 'DequantizeLinear', 'Gemm', 'Relu', 'DequantizeLinear', 'Gemm']);
    expect(nodes[0]!.strings(1, 'input')).toEqual(['layers.0.weight.int8', 'layers.0.weight.scale', 'layers.0.weight.zero_point']);
    expect(nodes[0]!.strings(2, 'output')).toEqual(['layers.0.weight']);
    // A 95 %-sparse layer's codes go out sparse (SparseTensorProto.values 1 → TensorProto.name 8); the float export is larger.
    expect(graph.messages(15, 'sparse_initializer').map((t) => t.message(1, 'values')!.string(8, 'name'))).toContain('layers.0.weight.int8');
    const float = exportOnnx(record.spec, params);
    console.log(`int8 LeNet-300-100 @ 95 %: ONNX ${(bytes.length / 1024).toFixed(1)} KiB with DequantizeLinear, ${(float.length / 1024).toFixed(1)} KiB as float32; model file ${(fileBytes.length / 1024).toFixed(1)} KiB`);
    expect(bytes.length).toBeLessThan(float.length);

    const count = 500;
    const x = loadDigits().test.x.slice(0, count * 784);
    const ours = compileModelBytesSync(fileBytes, { backend: 'js' }).predict(x, count);
    for (const sparseInitializers of ['auto', 'never'] as const) {
      const session = await InferenceSession.create(exportOnnx(record.spec, params, { int8Weights, sparseInitializers }), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        const logits = (await session.run({ x: new Tensor('float32', x, [count, 784]) }))['logits']!.data as Float32Array;
        let worst = 0;
        for (let j = 0; j < logits.length; j++) worst = Math.max(worst, Math.abs(logits[j]! - ours[j]!) / (1 + Math.abs(ours[j]!)));
        expect(worst, sparseInitializers).toBeLessThan(1e-4); // float32 sums in another order, the same weights
      } finally {
        await session.release();
      }
    }
  });

  it('refuses codes that do not stand for the weights, wrong lengths and names that are not linear or conv weights', () => {
    const first = int8Weights.get('layers.0.weight')!;
    const k = first.codes.findIndex((c) => c !== 0);
    const off = Int8Array.from(first.codes);
    off[k] = off[k]! === 127 ? 126 : off[k]! + 1;
    const withFirst = (w: { codes: Int8Array; scales: Float32Array }) => new Map([['layers.0.weight', w]]);
    expect(() => exportOnnx(record.spec, params, { int8Weights: withFirst({ codes: off, scales: first.scales }) })).toThrow(ConfigError);
    expect(() => exportOnnx(record.spec, params, { int8Weights: withFirst({ codes: off, scales: first.scales }) })).toThrow(/do not stand for its weights: at flat index/);
    const zeroScale = Float32Array.from(first.scales);
    zeroScale[0] = 0;
    expect(() => exportOnnx(record.spec, params, { int8Weights: withFirst({ codes: first.codes, scales: zeroScale }) })).toThrow(/scales must be positive and finite/);
    expect(() => exportOnnx(record.spec, params, { int8Weights: withFirst({ codes: first.codes.subarray(1), scales: first.scales }) })).toThrow(ShapeError);
    expect(() => exportOnnx(record.spec, params, { int8Weights: new Map([['layers.1.weight', first]]) })).toThrow(/which is not a linear or conv layer's weight/);
  });

  it('leaves codebook and float weights to float32 initializers', () => {
    const kmeans = deserializeModel(serializeModel(modelToRecord(pruned, { quantization: quantizeModel(pruned, { method: 'kmeans', bits: 5 }) })));
    expect(int8WeightsOfRecord(kmeans).size).toBe(0);
    expect(int8WeightsOfRecord(deserializeModel(readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url)))).size).toBe(0);
  });
});
