/**
 * F16 tensors in the model file: a compact file stores biases, dense float weights and codebooks whose values
 * are all float16 as F16 (lossless), plain files never change, and the loader widens F16 where the writer can
 * put it, refuses it everywhere else, and refuses F16 NaN/Infinity like float32 ones.
 */
import { describe, expect, it } from 'vitest';
import { compileModelBytesSync } from '../../src/infer/index.ts';
import { modelFromRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, readModelHeader, serializeModel, type ModelRecord, type ParamRecord } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../src/io/safetensors.ts';
import { predict } from '../../src/nn/train.ts';
import { floatToHalfBits, roundToFloat16, widenHalfBits } from '../../src/tensor/float16.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { codeOf, SMALL_SPEC, sampleRecord, splitFile, withElement } from '../fixtures/model-files.ts';
import { float16Record, quantizedRecord } from '../fixtures/quantized-files.ts';

const COMPACT = { encoding: 'csr', indices: 'gaps', huffman: true } as const;

const dtypes = (bytes: Uint8Array): Record<string, string> => Object.fromEntries([...decodeSafetensors(bytes).tensors].map(([name, t]) => [name, t.dtype]));

/** The same file with every F16 tensor widened to F32 (what a writer without F16 would have stored). */
function widened(bytes: Uint8Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map<string, SafetensorsTensor>([...file.tensors].map(([name, t]) => [name, t.dtype === 'F16' ? { dtype: 'F32', shape: t.shape, data: widenHalfBits(t.data as Uint16Array) } : t]));
  return encodeSafetensors(tensors, file.metadata);
}

/** Rewrites one tensor of a file (a fresh copy of its data) and re-encodes the container. */
function withTensor(bytes: Uint8Array, name: string, make: (t: SafetensorsTensor) => SafetensorsTensor): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map(file.tensors);
  tensors.set(name, make(tensors.get(name)!));
  return encodeSafetensors(tensors, file.metadata);
}

const asHalves = (t: SafetensorsTensor): SafetensorsTensor => ({ dtype: 'F16', shape: t.shape, data: Uint16Array.from(t.data as ArrayLike<number>, floatToHalfBits) });

describe('F16 tensors in compact model files', () => {
  it('stores half-valued biases and codebooks as F16: byte-identical round trip, same numbers, 2 bytes saved per value', () => {
    const record = float16Record(SMALL_SPEC, 1);
    const bytes = serializeModel(record, COMPACT);
    const types = dtypes(bytes);
    expect(types['layers.0.bias']).toBe('F16');
    expect(types['layers.0.weight.codebook']).toBe('F16');
    const loaded = deserializeModel(bytes);
    expect(serializeModel(loaded, COMPACT)).toEqual(bytes);
    for (const [name, param] of record.params) {
      const got = loaded.params.get(name)!;
      expect(got.dense ?? got.csr!.values).toBeInstanceOf(Float32Array);
      if (param.shape.length === 1) expect(Array.from(got.dense!)).toEqual(Array.from(param.dense!));
      if (param.quantized?.kind === 'codebook' && got.quantized?.kind === 'codebook') expect(Array.from(got.quantized.codebook)).toEqual(Array.from(param.quantized.codebook));
    }
    // Against the same file with those tensors in F32 (which the loader reads as the same model): the data
    // section is 2 bytes per value smaller.
    const f32 = widened(bytes);
    expect(Object.values(dtypes(f32))).not.toContain('F16');
    const halfValues = [...decodeSafetensors(bytes).tensors.values()].filter((t) => t.dtype === 'F16').reduce((n, t) => n + t.data.length, 0);
    const biasCount = [...record.params.values()].filter((p) => p.shape.length === 1).reduce((n, p) => n + p.shape[0]!, 0);
    expect(halfValues).toBeGreaterThan(biasCount); // biases and at least one codebook
    expect(splitFile(f32).data.length - splitFile(bytes).data.length).toBe(2 * halfValues);
    expect(serializeModel(deserializeModel(f32), COMPACT)).toEqual(bytes);
  });

  it('keeps F32 where a value is no half, and in plain files whatever the values', () => {
    const record = float16Record(SMALL_SPEC, 2);
    const biases = record.params.get('layers.0.bias')!;
    const oneOff = new Map(record.params);
    oneOff.set('layers.0.bias', { ...biases, dense: Float32Array.from(biases.dense!, (v, i) => (i === 0 ? v + 2 ** -20 : v)) });
    expect(dtypes(serializeModel({ ...record, params: oneOff }, COMPACT))['layers.0.bias']).toBe('F32');
    expect(dtypes(serializeModel({ ...record, params: oneOff }, COMPACT))['layers.3.bias']).toBe('F16');
    // Plain files (no gaps, no Huffman, no quantized weight) are format-1.0 bytes: F32 everywhere.
    const plainRecord = { ...record, params: new Map([...record.params].map(([name, { quantized: _q, ...p }]) => [name, p as ParamRecord])) };
    for (const encoding of ['dense', 'csr', 'auto'] as const) {
      expect(Object.values(dtypes(serializeModel(plainRecord, { encoding })))).not.toContain('F16');
    }
  });

  it('stores a dense float weight of halves as F16 in a compact file, and -0 keeps its sign', () => {
    const spec = { layers: [{ type: 'linear' as const, inFeatures: 3, outFeatures: 2, bias: true }] };
    const weight = Float32Array.from([0.5, -0, 1.25, 65504, -(2 ** -24), 3]);
    const bias = Float32Array.from([-0, 0.125]);
    const record: ModelRecord = { spec, params: new Map([['layers.0.weight', { shape: [2, 3], dense: weight }], ['layers.0.bias', { shape: [2], dense: bias }]]) };
    const bytes = serializeModel(record, { encoding: 'dense', indices: 'gaps' });
    expect(dtypes(bytes)).toEqual({ 'layers.0.weight': 'F16', 'layers.0.bias': 'F16' });
    expect(decodeSafetensors(bytes).metadata.has('encodings')).toBe(false); // dense float weights are not listed
    const loaded = deserializeModel(bytes);
    expect(Object.is(loaded.params.get('layers.0.weight')!.dense![1], -0)).toBe(true);
    expect(Object.is(loaded.params.get('layers.0.bias')!.dense![0], -0)).toBe(true);
    expect(Array.from(loaded.params.get('layers.0.weight')!.dense!)).toEqual(Array.from(weight));
    expect(readModelHeader(bytes).params.map((p) => [p.name, p.coding, p.storedBytes])).toEqual([['layers.0.weight', 'f16', 12], ['layers.0.bias', 'f16', 4]]);
  });

  it('inspect shows the f16 coding and the bytes', () => {
    const header = readModelHeader(serializeModel(float16Record(SMALL_SPEC, 3), COMPACT));
    const bias = header.params.find((p) => p.name === 'layers.0.bias')!;
    expect([bias.coding, bias.storedBytes]).toEqual(['f16', 2 * bias.shape[0]!]);
    expect(header.params.find((p) => p.name === 'layers.0.weight')!.coding).toMatch(/^f16 codebook 3-bit/);
    expect(readModelHeader(serializeModel(quantizedRecord(SMALL_SPEC, { seed: 3, method: 'int8' }), COMPACT)).params.find((p) => p.name === 'layers.0.bias')!.coding).toBe('f32');
  });

  it('refuses F16 NaN and Infinity like float32 ones: the same error code', () => {
    const bytes = serializeModel(float16Record(SMALL_SPEC, 4), COMPACT);
    const f32 = widened(bytes);
    for (const [bits, value] of [[0x7e00, NaN], [0x7c00, Infinity], [0xfc00, -Infinity]] as const) {
      for (const tensor of ['layers.0.bias', 'layers.0.weight.codebook']) {
        const code = codeOf(() => deserializeModel(withElement(bytes, tensor, 1, bits)));
        expect(code, `${tensor} = ${value}`).not.toBe('accepted');
        expect(code).toBe(codeOf(() => deserializeModel(withElement(f32, tensor, 1, value))));
      }
    }
    expect(codeOf(() => deserializeModel(withElement(bytes, 'layers.0.bias', 1, 0x7e00)))).toBe('E_NON_FINITE');
    expect(codeOf(() => deserializeModel(withElement(bytes, 'layers.0.weight.codebook', 1, 0x7c00)))).toBe('E_BAD_QUANT');
    // Like F32 ones, they load when non-finite weights are allowed.
    expect(deserializeModel(withElement(bytes, 'layers.0.bias', 1, 0x7c00), { allowNonFinite: true }).params.get('layers.0.bias')!.dense![1]).toBe(Infinity);
  });

  it('refuses F16 where the writer never puts it: CSR values, int8 scales, column indices', () => {
    const plainCsr = serializeModel(sampleRecord(SMALL_SPEC, { seed: 5, sparsity: 0.5 }), { encoding: 'csr' });
    const int8 = serializeModel(quantizedRecord(SMALL_SPEC, { seed: 6, method: 'int8', sparsity: 0.5, masks: true }), { encoding: 'csr', indices: 'gaps' });
    const f32Gaps = serializeModel(sampleRecord(SMALL_SPEC, { seed: 7, sparsity: 0.5, masks: true }), { encoding: 'csr', indices: 'gaps' });
    const cases: [Uint8Array, string, (t: SafetensorsTensor) => SafetensorsTensor][] = [
      [plainCsr, 'layers.0.weight.csr.values', asHalves],
      [f32Gaps, 'layers.0.weight.csr.values', asHalves],
      [int8, 'layers.0.weight.scales', asHalves],
      [plainCsr, 'layers.0.weight.csr.indices', (t) => ({ ...t, dtype: 'F16' })], // U16 column indices relabelled
    ];
    for (const [bytes, tensor, change] of cases) {
      expect(codeOf(() => deserializeModel(bytes)), tensor).toBe('accepted');
      const edited = withTensor(bytes, tensor, change);
      expect(codeOf(() => deserializeModel(edited)), tensor).toBe('E_BAD_DTYPE');
      expect(() => readModelHeader(edited)).toThrowError(/is F16; .* must be (F32|U16 or I32)$/);
    }
  });

  it('sparsegrad/infer runs such a file, predicting what the model does', () => {
    const record = float16Record(SMALL_SPEC, 8);
    const bytes = serializeModel(record, COMPACT);
    const rng = new Rng(9);
    const x = Float32Array.from({ length: 7 * 6 }, () => rng.uniform() * 2 - 1);
    const compiled = compileModelBytesSync(bytes, { backend: 'js' });
    const expected = predict(modelFromRecord(record), x, 7);
    const got = compiled.predict(x, 7);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected.data[i]!, 5);
    // Every value the file holds is a half: the biases it loaded are exactly the rounded ones.
    expect(Array.from(deserializeModel(bytes).params.get('layers.3.bias')!.dense!).every((v) => roundToFloat16(v) === v)).toBe(true);
  });
});
