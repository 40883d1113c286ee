/**
 * Quantized conv2d weights in model files, compiled models and ONNX (issue 14 on conv nets): a 4-D weight is
 * encoded as the matrix [out, in/groups·kh·kw] with every compact encoding a linear weight has (dense or CSR,
 * int8 + per-filter scales or a bit-packed codebook, relative gaps, Huffman); its dense tensors keep the 4-D
 * shape. Files round-trip byte-identically, the strict loader refuses malformed 4-D quantized tensors, every
 * backend runs the file with the classes of the dequantized float model, and ONNX export writes int8 conv
 * weights behind DequantizeLinear, which onnxruntime runs and the importer reads back bit for bit.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { compileModelBytesSync } from '../../src/infer/index.ts';
import { importModel } from '../../src/io/import/index.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { csrToDense, deserializeModel, readModelHeader, serializeModel, type SerializeOptions } from '../../src/io/model-file.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { int8WeightsOfRecord } from '../../src/io/onnx/int8-weights.ts';
import { architectureSpec, buildModel, Conv2d, predict, Rng, type Sequential } from '../../src/index.ts';
import { quantizeModel, type QuantizeOptions } from '../../src/quantize/index.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { headerObject } from '../fixtures/model-files.ts';

/** A LeNet-5 with its convolutions 60 % and its fc layers 90 % pruned (masks), deterministic. */
function prunedLenet5(seed: number): Sequential {
  const model = buildModel(architectureSpec('lenet5'), new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const [, p] of model.namedParameters()) {
    if (p.value.shape.length === 1) continue;
    const keep = p.value.shape.length === 4 ? 0.4 : 0.1;
    p.setMask(Uint8Array.from({ length: p.value.size }, () => (rng.uniform() < keep ? 1 : 0)));
  }
  return model;
}

/** The file of a pruned LeNet-5 quantized with `options`, written with `write`. */
function quantizedFile(options: QuantizeOptions, write: SerializeOptions = {}): { model: Sequential; bytes: Uint8Array } {
  const model = prunedLenet5(1);
  const quantization = quantizeModel(model, options);
  return { model, bytes: serializeModel(modelToRecord(model, { quantization }), write) };
}

const CONV_WEIGHTS = ['layers.1.weight', 'layers.4.weight'];
const CASES: [string, QuantizeOptions, SerializeOptions][] = [
  ['int8, auto', { method: 'int8' }, {}],
  ['int8, dense', { method: 'int8' }, { encoding: 'dense' }],
  ['int8, CSR + gaps', { method: 'int8' }, { encoding: 'csr', indices: 'gaps' }],
  ['kmeans 8-bit conv / 5-bit fc, auto', { method: 'kmeans', bits: 5, layerBits: { 'layers.1': 8, 'layers.4': 8 } }, {}],
  ['kmeans:5 dense', { method: 'kmeans', bits: 5 }, { encoding: 'dense' }],
  ['kmeans:4 + float16, CSR + gaps + Huffman', { method: 'kmeans', bits: 4, float16: true }, { encoding: 'csr', indices: 'gaps', huffman: true }],
];

const input = Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 37) % 101) / 100);

describe('model files with quantized conv2d weights', () => {
  it.each(CASES)('%s: round-trips byte-identically and loads to the quantized model', (_, options, write) => {
    const { model, bytes } = quantizedFile(options, write);
    const record = deserializeModel(bytes);
    for (const name of CONV_WEIGHTS) {
      const param = record.params.get(name)!;
      expect(param.quantized?.kind, name).toBe(options.method === 'int8' ? 'int8' : 'codebook');
      expect(param.shape.length).toBe(4);
    }
    expect(Buffer.from(serializeModel(record, write)).equals(Buffer.from(bytes))).toBe(true);
    const loaded = modelFromRecord(record);
    loaded.namedParameters().forEach(([name, p], i) => expect(Array.from(p.value.data), name).toEqual(Array.from(model.namedParameters()[i]![1].value.data)));
    expect(Array.from(predict(loaded, input, 3).data)).toEqual(Array.from(predict(model, input, 3).data));
  });

  it('lists the conv weights’ encodings in the metadata, with the 4-D shape, and the header shows their coding', () => {
    const { bytes } = quantizedFile({ method: 'kmeans', bits: 5, layerBits: { 'layers.1': 8 } }, { encoding: 'csr', indices: 'gaps', huffman: true });
    const encodings = JSON.parse((headerObject(bytes)['__metadata__'] as Record<string, string>)['encodings']!) as Record<string, Record<string, unknown>>;
    expect(encodings['layers.1.weight']).toMatchObject({ kind: 'csr', shape: [20, 1, 5, 5], values: 'codebook', bits: 8, indices: 'gaps' });
    expect(encodings['layers.4.weight']).toMatchObject({ kind: 'csr', shape: [50, 20, 5, 5], values: 'codebook', bits: 5 });
    const header = readModelHeader(bytes);
    expect(header.params.find((p) => p.name === 'layers.1.weight')!.coding).toMatch(/codebook 8-bit/);
    const dense = quantizedFile({ method: 'int8' }, { encoding: 'dense' }).bytes;
    const table = headerObject(dense) as Record<string, { dtype: string; shape: number[] }>;
    expect(table['layers.4.weight.int8']).toMatchObject({ dtype: 'I8', shape: [50, 20, 5, 5] });
    expect(table['layers.4.weight.scales']).toMatchObject({ dtype: 'F32', shape: [50] });
  });

  describe('the strict loader refuses malformed 4-D quantized tensors', () => {
    type Tensors = Map<string, { dtype: string; shape: readonly number[]; data: ArrayLike<number> }>;
    /** The model-level error code (and message) of the file with its tensors changed and re-encoded. */
    const edit = (bytes: Uint8Array, change: (tensors: Tensors, metadata: Map<string, string>) => void): string => {
      const file = decodeSafetensors(bytes);
      const tensors = new Map([...file.tensors].map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
      const metadata = new Map(file.metadata);
      change(tensors as never, metadata);
      try {
        deserializeModel(encodeSafetensors(tensors as never, metadata));
      } catch (error) {
        if (error instanceof ModelFormatError) return `${error.code}: ${error.message}`;
        throw error;
      }
      return 'accepted';
    };
    const int8 = quantizedFile({ method: 'int8' }, { encoding: 'dense' }).bytes;
    const codebook = quantizedFile({ method: 'kmeans', bits: 3 }, { encoding: 'csr' }).bytes;
    const reshape = (name: string, shape: number[]) => (t: Tensors) => t.set(name, { ...t.get(name)!, shape });

    it('int8 codes in the 2-D view instead of the weight’s 4-D shape, or scales per kh·kw instead of per filter (E_BAD_SHAPE)', () => {
      expect(edit(int8, reshape('layers.1.weight.int8', [20, 25]))).toMatch(/^E_BAD_SHAPE: tensor "layers.1.weight.int8" has shape \[20, 25\]; .* must be \[20, 1, 5, 5\]/);
      expect(edit(int8, (t) => t.set('layers.1.weight.scales', { dtype: 'F32', shape: [25], data: new Float32Array(25).fill(0.01) }))).toMatch(/^E_BAD_SHAPE: tensor "layers.1.weight.scales" has shape \[25\]; .* must be \[20\]/);
      expect(edit(int8, (t, m) => m.set('encodings', m.get('encodings')!.replace('"shape":[50,20,5,5]', '"shape":[50,500]')))).toMatch(/^E_BAD_SHAPE: __metadata__.encodings gives "layers.4.weight" shape \[50,500\]/);
    });
    it('a scale of 0 or NaN and an int8 code of −128 (E_BAD_QUANT)', () => {
      const setScale = (value: number) => (t: Tensors) => ((t.get('layers.4.weight.scales')!.data as Float32Array)[2] = value);
      expect(edit(int8, setScale(0))).toMatch(/^E_BAD_QUANT: the int8 scale of row 2 of "layers.4.weight" is 0/);
      expect(edit(int8, setScale(Number.NaN))).toMatch(/^E_BAD_QUANT: the int8 scale of row 2 of "layers.4.weight" is NaN/);
      expect(edit(int8, (t) => ((t.get('layers.1.weight.int8')!.data as Int8Array)[3] = -128))).toMatch(/^E_BAD_QUANT: int8 code 3 of "layers.1.weight" is −128/);
    });
    it('a codebook index past the codebook, and a truncated bit stream', () => {
      expect(edit(codebook, (t) => t.set('layers.1.weight.codebook', { dtype: 'F32', shape: [1], data: Float32Array.from([0.5]) }))).toMatch(/^E_BAD_QUANT: .*layers.1.weight/);
      expect(edit(codebook, (t) => {
        const codes = t.get('layers.4.weight.codes')!;
        t.set('layers.4.weight.codes', { ...codes, shape: [codes.data.length - 1], data: (codes.data as Uint8Array).slice(0, -1) });
      })).toMatch(/^E_BAD_SHAPE: tensor "layers.4.weight.codes"/);
    });
    it('values that are not what the conv codes stand for (E_BAD_QUANT), checked by the writer too', () => {
      const model = prunedLenet5(2);
      const record = modelToRecord(model, { quantization: quantizeModel(model, { method: 'int8' }), encoding: 'dense' });
      const weight = record.params.get('layers.1.weight')!;
      const kept = Array.from(weight.mask!).indexOf(1);
      weight.dense![kept] = weight.dense![kept]! + 1e-3;
      expect(() => serializeModel(record)).toThrow(/E_BAD_QUANT|holds .* but its code stands for/);
    });
  });
});

describe('compiled models and ONNX on a quantized LeNet-5', () => {
  it.each(['js', 'wasm-simd', 'wasm-int8'] as const)('backend %s runs the file: logits of the dequantized float model (wasm-int8 within its int8 tolerance)', (backend) => {
    for (const options of [{ method: 'int8' }, { method: 'kmeans', bits: 5, layerBits: { 'layers.1': 8, 'layers.4': 8 } }] as QuantizeOptions[]) {
      const { model, bytes } = quantizedFile(options, { indices: 'gaps', huffman: true });
      const compiled = compileModelBytesSync(bytes, { backend });
      const batch = 3;
      const expected = predict(model, input, batch).data;
      const got = compiled.predict(input, batch);
      // js and wasm-simd run the dequantized float weights; wasm-int8 quantizes activations of its fc layers.
      const tolerance = backend === 'wasm-int8' ? 0.05 * Math.max(...Array.from(expected, Math.abs)) : 1e-4 * Math.max(1, ...Array.from(expected, Math.abs));
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - expected[i]!), `${backend} ${options.method} logit ${i}`).toBeLessThanOrEqual(tolerance);
      if (backend === 'wasm-int8') expect(compiled.kernels(1).slice(0, 2).every((k) => k === 'dense' || k === 'csr')).toBe(true);
    }
  });

  it('ONNX: int8 conv weights go out behind DequantizeLinear; onnxruntime and the importer agree with the file', async () => {
    const { model, bytes } = quantizedFile({ method: 'int8' });
    const record = deserializeModel(bytes);
    const floats = modelFromRecord(record);
    const params = new Map(floats.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
    const int8Weights = int8WeightsOfRecord(record);
    expect([...int8Weights.keys()]).toEqual([...CONV_WEIGHTS, 'layers.8.weight', 'layers.10.weight']);
    const onnx = exportOnnx(record.spec, params, { int8Weights });
    const session = await InferenceSession.create(onnx);
    const result = await session.run({ [session.inputNames[0]!]: new Tensor('float32', input, [3, 784]) });
    const logits = result[session.outputNames[0]!]!.data as Float32Array;
    const expected = predict(model, input, 3).data;
    for (let i = 0; i < expected.length; i++) expect(logits[i]).toBeCloseTo(expected[i]!, 3);
    const imported = importModel(onnx, { from: 'onnx' });
    for (const [name, values] of params) {
      const p = imported.params.get(name)!;
      const got = p.csr !== undefined ? csrToDense(p.csr) : p.dense!;
      let differing = 0;
      for (let i = 0; i < values.length; i++) if (!Object.is(got[i], values[i])) differing++;
      expect(differing, name).toBe(0);
    }
    expect(imported.spec.layers.filter((l) => l.type === 'conv2d').length).toBe(2);
    expect(floats.layers[1]).toBeInstanceOf(Conv2d);
  });
});
