/**
 * The parameter checks shared by writing and reading model files (src/io/model-params.ts) and the record
 * helpers of model-file.ts, one refusal at a time with its exact message: what serializeModel refuses to
 * write (so nothing it writes fails to load), the tensor-table plan of a file (dtypes, shapes, stray CSR
 * parts), where a non-finite value sits, and the encoding choice. Written from the survivors of
 * `npm run mutate -- io`.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ModelFormatError } from '../../src/errors.ts';
import {
  csrToDense, DEFAULT_MAX_METADATA_JSON_BYTES, denseToCsr, deserializeModel, pickEncoding, readModelHeader, serializeModel,
  type CsrRecord, type ModelLimits, type ModelRecord, type ParamRecord,
} from '../../src/io/model-file.ts';
import type { ModelSpec } from '../../src/nn/spec.ts';
import { rebuild, sampleRecord, SMALL_SPEC } from '../fixtures/model-files.ts';

/** The record with one parameter replaced (or removed, for undefined). */
function withParam(name: string, param: ParamRecord | undefined, base: ModelRecord = sampleRecord(SMALL_SPEC, { seed: 5 })): ModelRecord {
  const params = new Map(base.params);
  if (param === undefined) params.delete(name);
  else params.set(name, param);
  return { ...base, params };
}

function refusal(run: () => unknown): { code: string | undefined; message: string; error: unknown } {
  try {
    run();
  } catch (error) {
    return { code: (error as ModelFormatError).code, message: (error as Error).message, error };
  }
  throw new Error('expected a refusal');
}

/** A 4×3 CSR record with rows 0, 2 and 3 filled and row 1 empty: entries at (0,0) (0,2) (2,1) (3,0) (3,1) (3,2). */
function csr4x3(values = [1, 2, 3, 4, 5, 6]): CsrRecord {
  return { nRows: 4, nCols: 3, indptr: Int32Array.from([0, 2, 2, 3, 6]), indices: Int32Array.from([0, 2, 1, 0, 1, 2]), values: Float32Array.from(values) };
}
const SPEC_4x3: ModelSpec = { layers: [{ type: 'linear', inFeatures: 3, outFeatures: 4, bias: false }] };
const record4x3 = (param: ParamRecord): ModelRecord => ({ spec: SPEC_4x3, params: new Map([['layers.0.weight', param]]) });

describe('serializeModel refuses records it could not read back', () => {
  it('settings and the record itself', () => {
    const record = sampleRecord(SMALL_SPEC, { seed: 5 });
    const badChoice = refusal(() => serializeModel(record, { encoding: 'coo' as 'csr' }));
    expect(badChoice.error).toBeInstanceOf(ConfigError);
    expect(badChoice.message).toBe("model encoding must be 'dense', 'csr' or 'auto', got 'coo'");
    const notMap = refusal(() => serializeModel({ spec: SMALL_SPEC, params: Object.fromEntries(record.params) as unknown as Map<string, ParamRecord> }));
    expect(notMap.error).toBeInstanceOf(ConfigError);
    expect(notMap.message).toBe('ModelRecord.params must be a Map from parameter name to ParamRecord');
    for (const encoding of ['dense', 'csr', 'auto'] as const) expect(() => serializeModel(record, { encoding })).not.toThrow();
  });

  it('the parameter set and shapes', () => {
    expect(refusal(() => serializeModel(withParam('layers.9.weight', { shape: [1], dense: new Float32Array(1) })))).toMatchObject({
      code: 'E_UNEXPECTED_TENSOR',
      message: 'cannot save model: parameter "layers.9.weight" is not part of the architecture (expected layers.0.weight, layers.0.bias, layers.3.weight, layers.3.bias, layers.5.weight)',
    });
    expect(refusal(() => serializeModel(withParam('layers.3.bias', undefined)))).toMatchObject({
      code: 'E_MISSING_TENSOR', message: 'cannot save model: parameter "layers.3.bias" [4] is missing',
    });
    expect(refusal(() => serializeModel(withParam('layers.3.bias', { shape: [1, 4], dense: new Float32Array(4) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: 'cannot save model: parameter "layers.3.bias" has shape [1, 4] but the architecture needs [4]',
    });
  });

  it('values: exactly one of dense and CSR, of the right types and sizes', () => {
    const name = 'layers.5.weight'; // [3, 4]
    const csr = denseToCsr(3, 4, Float32Array.from({ length: 12 }, (_, i) => i % 3));
    const cases: [ParamRecord, string, string][] = [
      [{ shape: [3, 4] }, 'E_BAD_PARAM', 'parameter "layers.5.weight" must have exactly one of dense or csr data'],
      [{ shape: [3, 4], dense: new Float32Array(12), csr }, 'E_BAD_PARAM', 'parameter "layers.5.weight" must have exactly one of dense or csr data'],
      [{ shape: [3, 4], dense: new Float64Array(12) as unknown as Float32Array }, 'E_BAD_DTYPE', 'parameter "layers.5.weight" must hold a Float32Array, got Float64Array'],
      [{ shape: [3, 4], dense: new Float32Array(11) }, 'E_BAD_SHAPE', 'parameter "layers.5.weight" has 11 values but shape [3, 4] needs 12'],
      [{ shape: [3, 4], csr: { ...csr, nRows: 4, indptr: Int32Array.from([...csr.indptr, csr.indptr[3]!]) } }, 'E_BAD_SHAPE', 'parameter "layers.5.weight" has CSR data of 4x4 but shape [3, 4]'],
      [{ shape: [3, 4], csr: { ...csr, nCols: 5 } }, 'E_BAD_SHAPE', 'parameter "layers.5.weight" has CSR data of 3x5 but shape [3, 4]'],
      [{ shape: [3, 4], csr: { ...csr, indptr: Float32Array.from(csr.indptr) as unknown as Int32Array } }, 'E_BAD_DTYPE', 'parameter "layers.5.weight" (tensors "layers.5.weight.csr.*"): CSR data must be Int32Array indptr and indices and a Float32Array of values'],
      [{ shape: [3, 4], csr: { ...csr, indices: Uint16Array.from(csr.indices) as unknown as Int32Array } }, 'E_BAD_DTYPE', 'parameter "layers.5.weight" (tensors "layers.5.weight.csr.*"): CSR data must be Int32Array indptr and indices and a Float32Array of values'],
      [{ shape: [3, 4], csr: { ...csr, values: Float64Array.from(csr.values) as unknown as Float32Array } }, 'E_BAD_DTYPE', 'parameter "layers.5.weight" (tensors "layers.5.weight.csr.*"): CSR data must be Int32Array indptr and indices and a Float32Array of values'],
      [{ shape: [3, 4], csr: { ...csr, indices: Int32Array.from(csr.indices, () => 4) } }, 'E_BAD_CSR', 'parameter "layers.5.weight" (tensors "layers.5.weight.csr.*"): CSR column index 4 at position 0 is out of range [0, 4)'],
      [{ shape: [3, 4], dense: new Float32Array(12), mask: new Int8Array(12) as unknown as Uint8Array }, 'E_BAD_DTYPE', 'the mask of "layers.5.weight" must be a Uint8Array, got Int8Array'],
      [{ shape: [3, 4], dense: new Float32Array(12), mask: new Uint8Array(13) }, 'E_BAD_SHAPE', 'the mask of "layers.5.weight" has 13 values but shape [3, 4] needs 12'],
    ];
    for (const [param, code, message] of cases) {
      const result = refusal(() => serializeModel(withParam(name, param)));
      expect(result.error, message).toBeInstanceOf(ModelFormatError);
      expect(result, message).toMatchObject({ code, message: expect.stringContaining(message) });
    }
  });

  it('masks: a stored zero under mask 0 is consistent; a stored nonzero is not', () => {
    const mask = Uint8Array.from([1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]); // (0,1) and (1,2) pruned
    const stored = { ...csr4x3([1, 0, 3, 4, 5, 6]) };
    // entry 1 is (0,2): keep mask[2] = 1; make (0,2) pruned with a stored 0
    const maskZeroStored = Uint8Array.from(mask);
    maskZeroStored[2] = 0;
    const bytes = serializeModel(record4x3({ shape: [4, 3], csr: stored, mask: maskZeroStored }), { encoding: 'csr' });
    expect(Array.from(deserializeModel(bytes).params.get('layers.0.weight')!.mask!)).toEqual(Array.from(maskZeroStored));
    expect(refusal(() => serializeModel(record4x3({ shape: [4, 3], csr: csr4x3(), mask: maskZeroStored })))).toMatchObject({
      code: 'E_BAD_MASK', message: 'tensor "layers.0.weight.csr.values" holds 2 at (row 0, column 2), where the mask is 0',
    });
  });

  it('non-finite values name their place: row and column in a matrix (also in CSR, across empty rows), index in a vector', () => {
    const nan = (values: number[], at: number): number[] => values.map((v, i) => (i === at ? Number.NaN : v));
    const places = ['(row 0, column 0)', '(row 0, column 2)', '(row 2, column 1)', '(row 3, column 0)', '(row 3, column 1)', '(row 3, column 2)'];
    places.forEach((place, k) => {
      const result = refusal(() => serializeModel(record4x3({ shape: [4, 3], csr: csr4x3(nan([1, 2, 3, 4, 5, 6], k)) })));
      expect(result).toMatchObject({ code: 'E_NON_FINITE', message: `tensor "layers.0.weight.csr.values" holds NaN at index ${k} ${place}` });
    });
    const dense = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    dense[7] = Number.POSITIVE_INFINITY;
    expect(refusal(() => serializeModel(record4x3({ shape: [4, 3], dense })))).toMatchObject({ message: 'tensor "layers.0.weight" holds Infinity at index 7 (row 2, column 1)' });
    const bias = refusal(() => serializeModel(withParam('layers.0.bias', { shape: [5], dense: Float32Array.from([0, 0, Number.NaN, 0, 0]) })));
    expect(bias.message).toBe('tensor "layers.0.bias" holds NaN at index 2');
    // ...unless the caller allows them, on both sides.
    const allowed: ModelLimits = { allowNonFinite: true };
    const written = serializeModel(record4x3({ shape: [4, 3], csr: csr4x3(nan([1, 2, 3, 4, 5, 6], 2)) }), { encoding: 'csr' }, allowed);
    expect(deserializeModel(written, allowed).params.get('layers.0.weight')!.csr!.values[2]).toBeNaN();
    expect(() => deserializeModel(written)).toThrow(/holds NaN at index 2 \(row 2, column 1\)/);
  });

  it('training metadata: within the limit (the default is 1 MiB of JSON), written only when given', () => {
    const record = sampleRecord(SMALL_SPEC, { seed: 5 });
    const json = (text: string): ModelRecord => ({ ...record, training: { note: text } });
    const exactly = JSON.stringify({ note: 'x'.repeat(100) }).length;
    expect(() => serializeModel(json('x'.repeat(100)), {}, { maxMetadataJsonBytes: exactly })).not.toThrow();
    const over = refusal(() => serializeModel(json('x'.repeat(101)), {}, { maxMetadataJsonBytes: exactly }));
    expect(over.error).toBeInstanceOf(ConfigError);
    expect(over.message).toBe(`training metadata is larger than ${exactly} bytes of JSON`);
    expect(() => serializeModel(json('x'.repeat(DEFAULT_MAX_METADATA_JSON_BYTES)))).toThrow(`training metadata is larger than ${DEFAULT_MAX_METADATA_JSON_BYTES} bytes of JSON`);
    const plain = serializeModel(record);
    expect('training' in deserializeModel(plain)).toBe(false);
    expect('training' in readModelHeader(plain)).toBe(false);
    expect(readModelHeader(serializeModel(json('y'))).training).toEqual({ note: 'y' });
  });
});

describe('reading: the tensor table must match the architecture', () => {
  const csrFile = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0.6, seed: 4 }), { encoding: 'csr' });
  const denseFile = serializeModel(sampleRecord(SMALL_SPEC, { seed: 4 }), { encoding: 'dense' });
  const reject = (bytes: Uint8Array): { code: string | undefined; message: string } => refusal(() => deserializeModel(bytes));

  it('each part of a CSR weight, with what it must be', () => {
    expect(reject(rebuild(csrFile, (t) => t.set('layers.0.weight.csr.indptr', { dtype: 'I32', shape: [5], data: new Int32Array(5) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: 'tensor "layers.0.weight.csr.indptr" has shape [5]; the row pointers of [5, 6] "layers.0.weight" must be [6]',
    });
    const indices = deserializeModel(csrFile).params.get('layers.0.weight')!.csr!.indices;
    expect(reject(rebuild(csrFile, (t) => t.set('layers.0.weight.csr.indices', { dtype: 'I32', shape: [indices.length, 1], data: Int32Array.from(indices) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: `tensor "layers.0.weight.csr.indices" has shape [${indices.length}, 1]; it must be 1-D`,
    });
    expect(reject(rebuild(csrFile, (t) => t.set('layers.0.weight.csr.indices', { dtype: 'F32', shape: [1], data: new Float32Array(1) })))).toMatchObject({
      code: 'E_BAD_DTYPE', message: 'tensor "layers.0.weight.csr.indices" is F32; the column indices of "layers.0.weight" must be U16 or I32',
    });
    expect(reject(rebuild(csrFile, (t) => t.set('layers.0.weight.csr.values', { dtype: 'F32', shape: [1], data: new Float32Array(1) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: expect.stringContaining('the values of "layers.0.weight" (one per column index) must be'),
    });
  });

  it('dense parameters, masks, stray CSR parts and unknown tensors', () => {
    expect(reject(rebuild(denseFile, (t) => t.set('layers.0.bias', { dtype: 'F32', shape: [4], data: new Float32Array(4) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: 'tensor "layers.0.bias" has shape [4]; parameter "layers.0.bias" must be [5]',
    });
    expect(reject(rebuild(denseFile, (t) => t.set('layers.0.bias.mask', { dtype: 'U8', shape: [4], data: new Uint8Array(4) })))).toMatchObject({
      code: 'E_BAD_SHAPE', message: 'tensor "layers.0.bias.mask" has shape [4]; the mask of "layers.0.bias" must be [5]',
    });
    for (const part of ['indptr', 'indices', 'values']) {
      expect(reject(rebuild(denseFile, (t) => t.set(`layers.3.weight.csr.${part}`, { dtype: 'I32', shape: [1], data: new Int32Array(1) })))).toMatchObject({
        code: 'E_UNEXPECTED_TENSOR', message: `tensor "layers.3.weight.csr.${part}" looks like CSR data, but __metadata__.encodings does not list "layers.3.weight" as CSR`,
      });
    }
    expect(reject(rebuild(denseFile, (t) => t.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) })))).toMatchObject({
      code: 'E_UNEXPECTED_TENSOR', message: 'tensor "extra" is not part of the model (the architecture has layers.0.weight, layers.0.bias, layers.3.weight, layers.3.bias, layers.5.weight)',
    });
    // ('no parameters' in that message cannot happen: an architecture needs at least one linear layer.)
  });

  it('U16 column indices are refused only where U16 cannot address every column', () => {
    const wide = (cols: number): ModelRecord => ({
      spec: { layers: [{ type: 'linear', inFeatures: cols, outFeatures: 1, bias: false }] },
      params: new Map([['layers.0.weight', { shape: [1, cols], csr: { nRows: 1, nCols: cols, indptr: Int32Array.from([0, 1]), indices: Int32Array.from([cols - 1]), values: Float32Array.from([1]) } }]]),
    });
    const asU16 = (bytes: Uint8Array): Uint8Array => rebuild(bytes, (t) => {
      const { shape, data } = t.get('layers.0.weight.csr.indices')!;
      t.set('layers.0.weight.csr.indices', { dtype: 'U16', shape, data: Uint16Array.from(data as Int32Array) });
    });
    const edge = serializeModel(wide(65536), { encoding: 'csr' });
    expect(deserializeModel(asU16(edge)).params.get('layers.0.weight')!.csr!.indices[0]).toBe(65535);
    expect(refusal(() => deserializeModel(asU16(serializeModel(wide(65537), { encoding: 'csr' }))))).toMatchObject({
      code: 'E_BAD_DTYPE', message: 'tensor "layers.0.weight.csr.indices" is U16; the column indices of "layers.0.weight" (65537 columns, more than U16 can address) must be I32',
    });
  });
});

describe('record helpers', () => {
  it('pickEncoding: only matrices can be CSR; auto counts what the mask keeps (stored zeros included)', () => {
    expect(pickEncoding({ shape: [4], dense: new Float32Array(4) }, 'csr')).toBe('dense');
    expect(pickEncoding({ shape: [4, 4], dense: new Float32Array(16) }, 'dense')).toBe('dense');
    const mostlyZero = Float32Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : 0));
    expect(pickEncoding({ shape: [4, 4], dense: mostlyZero }, 'auto')).toBe('csr');
    expect(pickEncoding({ shape: [4, 4], dense: mostlyZero, mask: new Uint8Array(16).fill(1) }, 'auto')).toBe('dense');
  });

  it('denseToCsr keeps what the mask keeps (stored zeros too), or else the nonzeros; csrToDense checks a plain record', () => {
    const dense = Float32Array.from([1, 0, 0, 2]);
    expect(Array.from(denseToCsr(2, 2, dense).values)).toEqual([1, 2]);
    const masked = denseToCsr(2, 2, dense, Uint8Array.from([1, 1, 0, 1]));
    expect([Array.from(masked.indptr), Array.from(masked.indices), Array.from(masked.values)]).toEqual([[0, 2, 3], [0, 1, 1], [1, 0, 2]]);
    expect(Array.from(csrToDense(csr4x3()))).toEqual([1, 0, 2, 0, 0, 0, 0, 3, 0, 4, 5, 6]);
    expect(refusal(() => csrToDense({ ...csr4x3(), indptr: Int32Array.from([1, 2, 2, 3, 6]) }))).toMatchObject({ code: 'E_BAD_CSR', message: expect.stringMatching(/^a CSR record: /) });
  });
});
