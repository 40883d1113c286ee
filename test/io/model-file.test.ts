import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import {
  csrIndexDtype,
  csrToDense,
  deserializeModel,
  denseToCsr,
  parameterShapes,
  pickEncoding,
  readModelHeader,
  serializeModel,
  validateModelSpec,
  type ModelLimits,
  type ModelRecord,
  type ParamRecord,
} from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import type { ModelSpec } from '../../src/nn/spec.ts';
import { CSRMatrix } from '../../src/sparse/csr-matrix.ts';
import {
  SMALL_SPEC,
  TINY_SPEC,
  elementOf,
  headerObject,
  sampleRecord,
  tensorLocation,
  rebuild,
  wideRecord,
  withElement,
  withHeader,
  withIndexDtype,
  withMetadata,
} from '../fixtures/model-files.ts';
import { badFixtures, badManifest, FIXTURE_DIR, goldenBytes, goldenRecords, REGENERATE } from '../fixtures/golden-models.ts';

/** Dense values of a parameter, whatever its encoding. */
function denseOf(param: ParamRecord | undefined): number[] {
  if (param === undefined) throw new Error('missing parameter');
  return Array.from(param.dense ?? csrToDense(param.csr!));
}

function expectSameModel(a: ModelRecord, b: ModelRecord): void {
  expect(b.spec).toEqual(a.spec);
  expect([...b.params.keys()]).toEqual([...a.params.keys()]);
  for (const [name, param] of a.params) {
    const other = b.params.get(name);
    expect(other?.shape).toEqual(param.shape);
    expect(denseOf(other)).toEqual(denseOf(param));
    expect(other?.mask === undefined ? undefined : Array.from(other.mask)).toEqual(param.mask === undefined ? undefined : Array.from(param.mask));
  }
  expect(b.training).toEqual(a.training);
}

function rejectCode(bytes: Uint8Array, code: string, limits: ModelLimits = {}): string {
  try {
    deserializeModel(bytes, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).code, (error as Error).message).toBe(code);
    return (error as Error).message;
  }
  throw new Error(`expected ${code}, but the file was accepted`);
}

const training = { optimizer: { name: 'adam', lr: 0.001 }, epochs: 3, seed: 42, pruning: { method: 'magnitude', sparsity: 0.9 }, notes: ['a', 'ü'], done: true, none: null };

describe('model file round trip', () => {
  it('dense: save -> load gives the same model, and save -> load -> save the same bytes', () => {
    const record = sampleRecord(SMALL_SPEC, { training });
    const bytes = serializeModel(record, { encoding: 'dense' });
    const loaded = deserializeModel(bytes);
    expectSameModel(record, loaded);
    for (const param of loaded.params.values()) expect(param.dense).toBeInstanceOf(Float32Array);
    expect(serializeModel(loaded, { encoding: 'dense' })).toEqual(bytes);
  });

  it('CSR: a pruned model stored as CSR loads back as CSR, equal when densified', () => {
    const record = sampleRecord(SMALL_SPEC, { sparsity: 0.7, seed: 3 });
    const bytes = serializeModel(record, { encoding: 'csr' });
    const loaded = deserializeModel(bytes);
    expectSameModel(record, loaded);
    const weight = loaded.params.get('layers.0.weight');
    expect(weight?.csr?.nRows).toBe(5);
    expect(weight?.csr?.nCols).toBe(6);
    expect(weight?.dense).toBeUndefined();
    expect(loaded.params.get('layers.0.bias')?.dense).toBeInstanceOf(Float32Array); // 1-D stays dense
    expect(serializeModel(loaded, { encoding: 'csr' })).toEqual(bytes);
    // Dense and CSR files of one model hold the same numbers.
    expectSameModel(deserializeModel(serializeModel(record, { encoding: 'dense' })), loaded);
  });

  it('masks: stored as U8 after the weights, and CSR keeps the mask structure', () => {
    for (const csr of [false, true]) {
      const record = sampleRecord(SMALL_SPEC, { sparsity: 0.5, masks: true, csr, seed: 9 });
      for (const encoding of ['dense', 'csr', 'auto'] as const) {
        const bytes = serializeModel(record, { encoding });
        const loaded = deserializeModel(bytes);
        expectSameModel(record, loaded);
        expect(serializeModel(loaded, { encoding })).toEqual(bytes);
        const names = Object.keys(headerObject(bytes)).filter((n) => n !== '__metadata__');
        const firstMask = names.findIndex((n) => n.endsWith('.mask'));
        expect(names.slice(firstMask).every((n) => n.endsWith('.mask'))).toBe(true);
        if (encoding === 'csr') {
          // With a mask, CSR stores exactly the kept positions (even a kept weight that happens to be 0).
          const mask = record.params.get('layers.0.weight')?.mask;
          expect(loaded.params.get('layers.0.weight')?.csr?.values.length).toBe(mask?.reduce((a, b) => a + b, 0));
        }
      }
    }
  });

  it('auto picks CSR only when it is smaller', () => {
    const dense = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0 }), { encoding: 'auto' });
    expect(decodeSafetensors(dense).metadata.has('encodings')).toBe(false);
    const sparse = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0.9, seed: 5 }), { encoding: 'auto' });
    const encodings = JSON.parse(decodeSafetensors(sparse).metadata.get('encodings') ?? '{}') as Record<string, unknown>;
    expect(encodings['layers.0.weight']).toEqual({ kind: 'csr', shape: [5, 6] });
    // On a model of realistic size the whole file shrinks too (on tiny ones the longer header can dominate).
    const wide = { layers: [{ type: 'linear', inFeatures: 100, outFeatures: 50, bias: true }] } as const;
    const pruned = sampleRecord(wide, { sparsity: 0.9, seed: 5 });
    expect(serializeModel(pruned, { encoding: 'auto' }).length).toBeLessThan(serializeModel(pruned, { encoding: 'dense' }).length / 3);
    // With U16 column indices CSR costs 6 bytes per entry (dense: 4), so at half density CSR still wins...
    const half = serializeModel(sampleRecord(wide, { sparsity: 0.5, seed: 5 }), { encoding: 'auto' });
    expect(decodeSafetensors(half).metadata.has('encodings')).toBe(true);
    // ...while at three quarters density it does not, and auto stays dense.
    const mostlyDense = serializeModel(sampleRecord(wide, { sparsity: 0.25, seed: 5 }), { encoding: 'auto' });
    expect(decodeSafetensors(mostlyDense).metadata.has('encodings')).toBe(false);
  });

  it('pickEncoding counts the real column index width (U16 up to 65,536 columns, I32 beyond)', () => {
    expect(csrIndexDtype(1)).toBe('U16');
    expect(csrIndexDtype(65536)).toBe('U16');
    expect(csrIndexDtype(65537)).toBe('I32');
    // 10 x 100: dense 4,000 bytes; CSR 44 + 6 * nnz (U16), so CSR up to 659 entries, dense from 660.
    const narrow = (nnz: number): ParamRecord => ({ shape: [10, 100], dense: Float32Array.from({ length: 1000 }, (_, i) => (i < nnz ? 1 : 0)) });
    expect(pickEncoding(narrow(659), 'auto')).toBe('csr');
    expect(pickEncoding(narrow(660), 'auto')).toBe('dense');
    // 1 x 70,000: dense 280,000 bytes; CSR 8 + 8 * nnz (I32), so CSR up to 34,998 entries, dense from 34,999
    // (with U16 arithmetic 40,000 entries would wrongly look smaller).
    const wide = (nnz: number): ParamRecord => ({ shape: [1, 70000], dense: Float32Array.from({ length: 70000 }, (_, i) => (i < nnz ? 1 : 0)) });
    expect(pickEncoding(wide(34998), 'auto')).toBe('csr');
    expect(pickEncoding(wide(34999), 'auto')).toBe('dense');
    expect(pickEncoding(wide(40000), 'auto')).toBe('dense');
    // The file agrees: a CSR weight is exactly 4 (rows + 1) + (4 + index width) nnz bytes.
    for (const [param, indexBytes] of [[narrow(659), 2], [wide(34998), 4]] as const) {
      const [rows, cols] = param.shape as [number, number];
      const spec: ModelSpec = { layers: [{ type: 'linear', inFeatures: cols, outFeatures: rows, bias: false }] };
      const bytes = serializeModel({ spec, params: new Map([['layers.0.weight', param]]) }, { encoding: 'auto' });
      const stored = readModelHeader(bytes).params[0]!;
      expect(stored.encoding).toBe('csr');
      expect(stored.storedBytes).toBe(4 * (rows + 1) + (4 + indexBytes) * stored.nnz!);
    }
  });

  it('CSR column indices are U16 up to 65,536 columns and I32 beyond, and load as Int32Array either way', () => {
    const cases = [
      { nCols: 6, dtype: 'U16' },
      { nCols: 65536, dtype: 'U16' },
      { nCols: 65537, dtype: 'I32' },
      { nCols: 200000, dtype: 'I32' },
    ] as const;
    for (const { nCols, dtype } of cases) {
      // A few entries per row, including the first and the last column (65,535 is the largest U16 index).
      const entries: [number, number, number][] = [[0, 0, 1.5], [0, nCols - 1, -2], [1, Math.floor(nCols / 2), 0.25], [2, 1, 3], [2, nCols - 2, -0.5]];
      const record = wideRecord(3, nCols, entries);
      const bytes = serializeModel(record, { encoding: 'csr' });
      const indices = tensorLocation(bytes, 'layers.0.weight.csr.indices');
      expect(indices.dtype, `nCols ${nCols}`).toBe(dtype);
      expect(indices.end - indices.start).toBe(entries.length * (dtype === 'U16' ? 2 : 4));
      expect(tensorLocation(bytes, 'layers.0.weight.csr.indptr').dtype).toBe('I32');
      const loaded = deserializeModel(bytes);
      const csr = loaded.params.get('layers.0.weight')!.csr!;
      expect(csr.indices).toBeInstanceOf(Int32Array);
      expect(Array.from(csr.indices)).toEqual(entries.map(([, c]) => c));
      expect(Array.from(csr.values)).toEqual(entries.map(([, , v]) => v));
      expect(Array.from(csr.indptr)).toEqual([0, 2, 3, 5]);
      expect(serializeModel(loaded, { encoding: 'csr' })).toEqual(bytes);
      // Every typed array of the file is aligned in the data section: views, not copies.
      expect(csr.values.byteOffset % 4).toBe(0);
    }
  });

  it('the reader accepts I32 column indices at any width; re-saving writes the canonical U16 form', () => {
    const record = sampleRecord(SMALL_SPEC, { sparsity: 0.6, seed: 12 });
    const canonical = serializeModel(record, { encoding: 'csr' });
    let wide = canonical;
    for (const param of ['layers.0.weight', 'layers.3.weight', 'layers.5.weight']) wide = withIndexDtype(wide, param, 'I32');
    expect(tensorLocation(wide, 'layers.0.weight.csr.indices').dtype).toBe('I32');
    expect(wide.length).toBeGreaterThan(canonical.length);
    const loaded = deserializeModel(wide);
    expectSameModel(record, loaded);
    for (const name of ['layers.0.weight', 'layers.3.weight', 'layers.5.weight']) expect(loaded.params.get(name)?.csr?.indices).toBeInstanceOf(Int32Array);
    expect(serializeModel(loaded, { encoding: 'csr' })).toEqual(canonical);
    // An I32 file with an index out of range is refused like a U16 one.
    expect(rejectCode(withElement(wide, 'layers.3.weight.csr.indices', 0, 5), 'E_BAD_CSR')).toMatch(/out of range \[0, 5\)/);
  });

  it('U16 column indices are refused when the matrix is too wide for them to address every column', () => {
    const record = wideRecord(2, 65537, [[0, 3, 1], [1, 7, 2]]);
    const bytes = withIndexDtype(serializeModel(record, { encoding: 'csr' }), 'layers.0.weight', 'U16');
    expect(tensorLocation(bytes, 'layers.0.weight.csr.indices').dtype).toBe('U16');
    // Every index is < nCols, so only the dtype rule catches it (a 16-bit cast could have wrapped wider ones).
    expect(rejectCode(bytes, 'E_BAD_DTYPE')).toMatch(/"layers.0.weight.csr.indices" is U16; .*65537 columns.* must be I32/);
    expect(() => readModelHeader(bytes)).toThrow(/is U16/);
    // At exactly 65,536 columns U16 is the writer's own choice.
    expect(() => deserializeModel(serializeModel(wideRecord(2, 65536, [[0, 65535, 1]]), { encoding: 'csr' }))).not.toThrow();
  });

  it('accepts a CSRMatrix instance as the csr field', () => {
    const record = sampleRecord(TINY_SPEC, { sparsity: 0.5, seed: 2 });
    const weight = record.params.get('layers.0.weight')!;
    const csr = denseToCsr(2, 2, weight.dense!);
    const matrix = new CSRMatrix(2, 2, csr.indptr, csr.indices, csr.values);
    const params = new Map(record.params).set('layers.0.weight', { shape: [2, 2], csr: matrix });
    expectSameModel({ ...record, params }, deserializeModel(serializeModel({ ...record, params })));
  });

  it('stores the documented metadata', () => {
    const bytes = serializeModel(sampleRecord(SMALL_SPEC, { training, sparsity: 0.9 }), { encoding: 'csr' });
    const metadata = Object.fromEntries(decodeSafetensors(bytes).metadata);
    expect(Object.keys(metadata)).toEqual(['encodings', 'format', 'format_version', 'model', 'training']);
    expect(metadata['format']).toBe('sparsegrad');
    expect(metadata['format_version']).toBe('1');
    expect(JSON.parse(metadata['model'] ?? '')).toEqual(SMALL_SPEC);
    expect(JSON.parse(metadata['training'] ?? '')).toEqual(training);
    expect(JSON.parse(metadata['encodings'] ?? '')).toEqual({
      'layers.0.weight': { kind: 'csr', shape: [5, 6] },
      'layers.3.weight': { kind: 'csr', shape: [4, 5] },
      'layers.5.weight': { kind: 'csr', shape: [3, 4] },
    });
    // In data order: the 4-byte tensors in architecture order, then the U16 column indices (then U8 masks).
    const header = headerObject(bytes) as Record<string, { dtype: string }>;
    expect(Object.keys(header).slice(1)).toEqual([
      'layers.0.weight.csr.indptr',
      'layers.0.weight.csr.values',
      'layers.0.bias',
      'layers.3.weight.csr.indptr',
      'layers.3.weight.csr.values',
      'layers.3.bias',
      'layers.5.weight.csr.indptr',
      'layers.5.weight.csr.values',
      'layers.0.weight.csr.indices',
      'layers.3.weight.csr.indices',
      'layers.5.weight.csr.indices',
    ]);
    expect(Object.values(header).slice(1).map((entry) => entry.dtype)).toEqual(['I32', 'F32', 'F32', 'I32', 'F32', 'F32', 'I32', 'F32', 'U16', 'U16', 'U16']);
  });

  it('training metadata comes back as null-prototype objects', () => {
    const loaded = deserializeModel(serializeModel(sampleRecord(TINY_SPEC, { training })));
    expect(Object.getPrototypeOf(loaded.training)).toBeNull();
    expect(loaded.training).toEqual(training);
  });

  it('refuses to save what it could not load back', () => {
    const record = sampleRecord(TINY_SPEC);
    const withParam = (name: string, param: ParamRecord) => ({ ...record, params: new Map(record.params).set(name, param) });
    const bad = new Float32Array(4);
    bad[2] = NaN;
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 2], dense: bad }))).toThrow(/E?NaN at index 2/);
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 3], dense: new Float32Array(6) }))).toThrow(ModelFormatError);
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 2], dense: new Float64Array(4) as unknown as Float32Array }))).toThrow(/must hold a Float32Array, got Float64Array/);
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 2], dense: new Float32Array(4), mask: new Uint8Array(3) }))).toThrow(/mask .* has 3 values/);
    expect(() => serializeModel(withParam('layers.9.weight', { shape: [2, 2], dense: new Float32Array(4) }))).toThrow(/not part of the architecture/);
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 2], dense: new Float32Array(4), mask: Uint8Array.from([1, 2, 1, 1]) }))).toThrow(/masks hold only 0 and 1/);
    expect(() => serializeModel(withParam('layers.0.weight', { shape: [2, 2], dense: Float32Array.from([1, 1, 1, 1]), mask: Uint8Array.from([1, 0, 1, 1]) }))).toThrow(/where its mask is 0/);
    expect(() =>
      serializeModel(withParam('layers.0.weight', { shape: [2, 2], csr: { nRows: 2, nCols: 2, indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 2]), values: new Float32Array(2) } })),
    ).toThrow(/E?out of range/);
    const params = new Map(record.params);
    params.delete('layers.0.bias');
    expect(() => serializeModel({ ...record, params })).toThrow(/"layers.0.bias" \[2\] is missing/);
    expect(() => serializeModel({ ...record, training: { loss: NaN } })).toThrow(/finite/);
    expect(() => serializeModel({ ...record, training: { when: new Date(0) } as Record<string, unknown> })).toThrow(/only JSON values/);
    expect(() => serializeModel({ ...record, training: JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown> })).toThrow(/__proto__/);
    expect(() => serializeModel({ ...record, spec: { layers: [] } })).toThrow(/non-empty/);
  });
});

describe('architecture validation', () => {
  const linear = (inFeatures: number, outFeatures: number, bias = true) => ({ type: 'linear', inFeatures, outFeatures, bias });
  const bad = (spec: unknown, pattern: RegExp, limits = {}) => {
    expect(() => validateModelSpec(spec, limits)).toThrow(pattern);
    try {
      validateModelSpec(spec, limits);
    } catch (error) {
      expect((error as ModelFormatError).code).toBe('E_BAD_SPEC');
    }
  };
  it('accepts valid specs and lists their parameters', () => {
    expect(validateModelSpec(SMALL_SPEC)).toEqual(SMALL_SPEC);
    expect([...parameterShapes(SMALL_SPEC)]).toEqual([
      ['layers.0.weight', [5, 6]],
      ['layers.0.bias', [5]],
      ['layers.3.weight', [4, 5]],
      ['layers.3.bias', [4]],
      ['layers.5.weight', [3, 4]],
    ]);
  });
  it('rejects bad ones with E_BAD_SPEC', () => {
    bad(null, /object with exactly one field/);
    bad({ layers: [], extra: 1 }, /exactly one field/);
    bad({ layers: [] }, /non-empty/);
    bad({ layers: [{ type: 'conv3d' }] }, /unknown type "conv3d"/);
    bad({ layers: [{ type: 'conv2d' }] }, /conv2d layer 0 must have exactly type, inChannels/);
    bad({ layers: [{ type: 'toString' }] }, /unknown type/);
    bad({ layers: [{ type: '__proto__' }] }, /unknown type/);
    bad({ layers: [{ ...linear(2, 2), extra: 1 }] }, /exactly type, inFeatures, outFeatures, bias/);
    bad({ layers: [linear(0, 2)] }, /inFeatures 0/);
    bad({ layers: [linear(2.5, 2)] }, /inFeatures 2.5/);
    bad({ layers: [linear(2, -1)] }, /outFeatures -1/);
    bad({ layers: [linear(2, 2 ** 31)] }, /below 2\^31/);
    bad({ layers: [{ type: 'linear', inFeatures: '2', outFeatures: 2, bias: true }] }, /inFeatures "2"/);
    bad({ layers: [{ type: 'linear', inFeatures: 2, outFeatures: 2, bias: 1 }] }, /bias 1/);
    bad({ layers: [linear(2, 3), { type: 'relu' }, linear(4, 2)] }, /takes 4 inputs but the previous linear layer gives 3/);
    bad({ layers: [{ type: 'dropout', p: 1 }] }, /\[0, 1\)/);
    bad({ layers: [{ type: 'dropout', p: -0.1 }] }, /\[0, 1\)/);
    bad({ layers: [{ type: 'dropout', p: NaN }] }, /\[0, 1\)/);
    bad({ layers: [{ type: 'relu', p: 0 }] }, /only a "type"/);
    bad({ layers: [linear(30000, 30000)] }, /more than 67108864 parameters/);
    bad({ layers: [linear(10, 10), linear(10, 10)] }, /more than 150 parameters/, { maxParams: 150 });
    bad({ layers: [{ type: 'relu' }, { type: 'relu' }] }, /more than the limit of 1/, { maxLayers: 1 });
  });
});

describe('model file validation: each check has its code', () => {
  const dense = serializeModel(sampleRecord(SMALL_SPEC, { training, masks: true, sparsity: 0.5, seed: 4 }), { encoding: 'dense' });
  const csr = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0.6, seed: 4 }), { encoding: 'csr' });
  const csrMasked = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0.6, masks: true, seed: 4 }), { encoding: 'csr' });

  it('the baseline files load', () => {
    for (const bytes of [dense, csr, csrMasked]) expect(deserializeModel(bytes).params.size).toBe(5);
  });

  it('container errors pass through unchanged', () => {
    expect(rejectCode(dense.subarray(0, dense.length - 1), 'E_MODEL_TRUNCATED')).toBeTruthy();
    expect(rejectCode(new Uint8Array([...dense, 0]), 'E_TRAILING_DATA')).toBeTruthy();
  });

  it('format and version', () => {
    expect(rejectCode(withMetadata(dense, 'format', undefined), 'E_NOT_SPARSEGRAD')).toMatch(/not a sparsegrad model file: .*no __metadata__.format/);
    expect(rejectCode(withMetadata(dense, 'format', 'pt'), 'E_NOT_SPARSEGRAD')).toMatch(/"pt"/);
    expect(rejectCode(encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]])), 'E_NOT_SPARSEGRAD')).toBeTruthy();
    expect(rejectCode(withMetadata(dense, 'format_version', '2'), 'E_UNSUPPORTED_VERSION')).toMatch(/format_version "2".*reads format_version "1"/);
    expect(rejectCode(withMetadata(dense, 'format_version', '1.0'), 'E_UNSUPPORTED_VERSION')).toBeTruthy();
    expect(rejectCode(withMetadata(dense, 'format_version', undefined), 'E_UNSUPPORTED_VERSION')).toMatch(/no format_version/);
    expect(rejectCode(withMetadata(dense, 'author', 'me'), 'E_BAD_METADATA')).toMatch(/unknown __metadata__ entry "author"/);
  });

  it('architecture metadata', () => {
    expect(rejectCode(withMetadata(dense, 'model', undefined), 'E_BAD_METADATA')).toMatch(/no __metadata__.model/);
    expect(rejectCode(withMetadata(dense, 'model', '{"layers":['), 'E_BAD_METADATA')).toMatch(/__metadata__.model: invalid JSON/);
    expect(rejectCode(withMetadata(dense, 'model', '{"layers":[],"layers":[]}'), 'E_DUPLICATE_KEY')).toMatch(/__metadata__.model/);
    expect(rejectCode(withMetadata(dense, 'model', '{"layers":[{"type":"conv"}]}'), 'E_BAD_SPEC')).toMatch(/unknown type "conv"/);
    expect(rejectCode(withMetadata(dense, 'model', '{"layers":[[[[[1]]]]]}'), 'E_BAD_METADATA')).toMatch(/nesting/);
    const bigger = JSON.stringify({ layers: [{ type: 'linear', inFeatures: 6, outFeatures: 5, bias: true }, { type: 'linear', inFeatures: 6, outFeatures: 5, bias: true }] });
    expect(rejectCode(withMetadata(dense, 'model', bigger), 'E_BAD_SPEC')).toMatch(/takes 6 inputs/);
    expect(rejectCode(dense, 'E_BAD_SPEC', { maxParams: 10 })).toMatch(/more than 10 parameters/);
  });

  it('training and encodings metadata', () => {
    expect(rejectCode(withMetadata(dense, 'training', '[1]'), 'E_BAD_METADATA')).toMatch(/must be a JSON object/);
    expect(rejectCode(withMetadata(dense, 'training', '{"a":1,"a":2}'), 'E_DUPLICATE_KEY')).toBeTruthy();
    expect(rejectCode(withMetadata(dense, 'training', '{"x":{"__proto__":{"polluted":1}}}'), 'E_BAD_METADATA')).toMatch(/__proto__/);
    expect(rejectCode(withMetadata(dense, 'training', JSON.stringify({ s: 'x'.repeat(2000) })), 'E_BAD_METADATA', { maxMetadataJsonBytes: 1000 })).toMatch(/larger than the limit/);
    expect(rejectCode(withMetadata(csr, 'encodings', '{"layers.9.weight":{"kind":"csr","shape":[1,1]}}'), 'E_BAD_METADATA')).toMatch(/not a parameter/);
    expect(rejectCode(withMetadata(csr, 'encodings', '{"layers.0.bias":{"kind":"csr","shape":[5]}}'), 'E_BAD_METADATA')).toMatch(/only 2-D/);
    expect(rejectCode(withMetadata(csr, 'encodings', '{"layers.0.weight":{"kind":"coo","shape":[5,6]}}'), 'E_BAD_METADATA')).toBeTruthy();
    expect(rejectCode(withMetadata(csr, 'encodings', '{"layers.0.weight":{"kind":"csr","shape":[6,5]}}'), 'E_BAD_SHAPE')).toMatch(/\[6,5\]/);
    expect(rejectCode(withMetadata(csr, 'encodings', '[]'), 'E_BAD_METADATA')).toBeTruthy();
  });

  it('the tensor set must match the architecture', () => {
    // Removing a tensor from the header leaves a gap in the data, which the container reports first...
    const drop = (name: string) => withHeader(dense, (header) => Object.fromEntries(Object.entries(header).filter(([key]) => key !== name)));
    // ...so files with a different tensor set are rebuilt with encodeSafetensors (rebuild, above).
    expect(rejectCode(drop('layers.0.bias'), 'E_BAD_OFFSETS')).toBeTruthy();
    expect(rejectCode(rebuild(dense, (t) => t.delete('layers.0.bias')), 'E_MISSING_TENSOR')).toMatch(/no tensor "layers.0.bias"/);
    expect(rejectCode(rebuild(dense, (t) => t.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) })), 'E_UNEXPECTED_TENSOR')).toMatch(/"extra" is not part of the model/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.1.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) })), 'E_UNEXPECTED_TENSOR')).toBeTruthy();
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.bias', { dtype: 'F64', shape: [5], data: new Float64Array(5) })), 'E_BAD_DTYPE')).toMatch(/"layers.0.bias" is F64/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.bias', { dtype: 'F32', shape: [1, 5], data: new Float32Array(5) })), 'E_BAD_SHAPE')).toMatch(/\[1, 5\].*must be \[5\]/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.weight', { dtype: 'F32', shape: [6, 5], data: new Float32Array(30) })), 'E_BAD_SHAPE')).toBeTruthy();
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.weight.mask', { dtype: 'U8', shape: [30], data: new Uint8Array(30) })), 'E_BAD_SHAPE')).toMatch(/mask/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.weight.mask', { dtype: 'F32', shape: [5, 6], data: new Float32Array(30) })), 'E_BAD_DTYPE')).toBeTruthy();
    // Exactly one encoding: dense and CSR copies of one parameter are refused.
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight', { dtype: 'F32', shape: [5, 6], data: new Float32Array(30) })), 'E_UNEXPECTED_TENSOR')).toMatch(/stored twice/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.weight.csr.indptr', { dtype: 'I32', shape: [6], data: new Int32Array(6) })), 'E_UNEXPECTED_TENSOR')).toMatch(/looks like CSR data/);
    expect(rejectCode(rebuild(csr, (t) => t.delete('layers.0.weight.csr.values')), 'E_MISSING_TENSOR')).toBeTruthy();
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight.csr.indptr', { dtype: 'I32', shape: [5], data: new Int32Array(5) })), 'E_BAD_SHAPE')).toMatch(/must be \[6\]/);
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight.csr.values', { dtype: 'F32', shape: [1], data: new Float32Array(1) })), 'E_BAD_SHAPE')).toMatch(/one per column index/);
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight.csr.indices', { dtype: 'F32', shape: [0], data: new Float32Array(0) })), 'E_BAD_DTYPE')).toMatch(/must be U16 or I32/);
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight.csr.indices', { dtype: 'U8', shape: [0], data: new Uint8Array(0) })), 'E_BAD_DTYPE')).toMatch(/must be U16 or I32/);
    expect(rejectCode(rebuild(csr, (t) => t.set('layers.0.weight.csr.indptr', { dtype: 'U16', shape: [6], data: new Uint16Array(6) })), 'E_BAD_DTYPE')).toMatch(/indptr" is U16; .* must be I32/);
    expect(rejectCode(rebuild(dense, (t) => t.set('layers.0.bias', { dtype: 'U16', shape: [5], data: new Uint16Array(5) })), 'E_BAD_DTYPE')).toBeTruthy();
  });

  it('CSR invariants, via validateCsr', () => {
    const indptr = 'layers.0.weight.csr.indptr';
    const indices = 'layers.0.weight.csr.indices';
    expect(tensorLocation(csr, indices).dtype).toBe('U16');
    expect(rejectCode(withElement(csr, indptr, 0, 1), 'E_BAD_CSR')).toMatch(/"layers.0.weight".*indptr\[0\] must be 0/);
    expect(rejectCode(withElement(csr, indptr, 2, elementOf(csr, indptr, 3) + 1), 'E_BAD_CSR')).toMatch(/not monotone/);
    expect(rejectCode(withElement(csr, indptr, 5, 0), 'E_BAD_CSR')).toMatch(/nnz/);
    expect(rejectCode(withElement(csr, indices, 0, 6), 'E_BAD_CSR')).toMatch(/out of range \[0, 6\)/);
    // U16 cannot hold -1; the same bits are 65,535, and the largest U16 value is refused like any index >= nCols.
    expect(rejectCode(withElement(csr, indices, 0, -1), 'E_BAD_CSR')).toMatch(/column index 65535 at position 0 is out of range \[0, 6\)/);
    expect(rejectCode(withElement(csr, 'layers.5.weight.csr.indices', 0, 4), 'E_BAD_CSR')).toMatch(/"layers.5.weight".*out of range \[0, 4\)/);
    // A duplicate column: copy the next index of the same row over this one.
    const row0 = [elementOf(csr, indptr, 0), elementOf(csr, indptr, 1)];
    expect(row0[1]! - row0[0]!).toBeGreaterThanOrEqual(2);
    expect(rejectCode(withElement(csr, indices, 1, elementOf(csr, indices, 0)), 'E_BAD_CSR')).toMatch(/duplicate column/);
  });

  it('values must be finite, unless allowed', () => {
    expect(rejectCode(withElement(dense, 'layers.3.weight', 7, NaN), 'E_NON_FINITE')).toMatch(/"layers.3.weight" holds NaN at index 7 \(row 1, column 2\)/);
    expect(rejectCode(withElement(dense, 'layers.0.bias', 1, -Infinity), 'E_NON_FINITE')).toMatch(/"layers.0.bias" holds -Infinity at index 1/);
    expect(rejectCode(withElement(csr, 'layers.0.weight.csr.values', 2, Infinity), 'E_NON_FINITE')).toMatch(/"layers.0.weight.csr.values" holds Infinity at index 2 \(row \d, column \d\)/);
    const allowed = deserializeModel(withElement(dense, 'layers.0.bias', 1, NaN), { allowNonFinite: true });
    expect(allowed.params.get('layers.0.bias')?.dense?.[1]).toBeNaN();
  });

  it('masks must be 0/1 and agree with the weights', () => {
    const maskName = 'layers.0.weight.mask';
    const zeroAt = Array.from({ length: 30 }, (_, i) => i).find((i) => elementOf(dense, maskName, i) === 0)!;
    const oneAt = Array.from({ length: 30 }, (_, i) => i).find((i) => elementOf(dense, maskName, i) === 1)!;
    expect(rejectCode(withElement(dense, maskName, oneAt, 2), 'E_BAD_MASK')).toMatch(/holds 2 at index/);
    expect(rejectCode(withElement(dense, 'layers.0.weight', zeroAt, 0.5), 'E_BAD_MASK')).toMatch(new RegExp(`holds 0.5 at index ${zeroAt}, where its mask is 0`));
    // Turning a kept entry's mask off while its weight is nonzero is the same inconsistency.
    expect(rejectCode(withElement(dense, maskName, oneAt, 0), 'E_BAD_MASK')).toBeTruthy();
    // CSR: a stored nonzero value where the mask says pruned.
    const stored = elementOf(csrMasked, 'layers.0.weight.csr.indices', 0);
    expect(rejectCode(withElement(csrMasked, maskName, stored, 0), 'E_BAD_MASK')).toMatch(/csr.values.*where the mask is 0/);
  });

  it('a mask defect in the last row or at the last index is found (every row and entry is checked)', () => {
    // CSR, reading: the last stored entry of each weight whose last row is non-empty, its mask turned off.
    let checked = 0;
    for (const [name, [rows, cols]] of [['layers.0.weight', [5, 6]], ['layers.3.weight', [4, 5]], ['layers.5.weight', [3, 4]]] as const) {
      const last = elementOf(csrMasked, `${name}.csr.indptr`, rows) - 1;
      if (last < elementOf(csrMasked, `${name}.csr.indptr`, rows - 1)) continue; // last row empty
      const column = elementOf(csrMasked, `${name}.csr.indices`, last);
      expect(elementOf(csrMasked, `${name}.csr.values`, last)).not.toBe(0);
      const bad = withElement(csrMasked, `${name}.mask`, (rows - 1) * cols + column, 0);
      expect(rejectCode(bad, 'E_BAD_MASK')).toMatch(new RegExp(`"${name}.csr.values" holds .* at \\(row ${rows - 1}, column ${column}\\), where the mask is 0`));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    // CSR, writing: a record whose only disagreement is in the last row.
    const weight = Float32Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? 0 : i + 1)); // 3×4, last entry 12 ≠ 0
    const mask = Uint8Array.from(weight, (w) => (w === 0 ? 0 : 1));
    mask[11] = 0;
    const lastRowOnly: ParamRecord = { shape: [3, 4], csr: denseToCsr(3, 4, weight), mask };
    const record = sampleRecord(SMALL_SPEC, { seed: 4 });
    record.params.set('layers.5.weight', lastRowOnly);
    expect(() => serializeModel(record, { encoding: 'csr' })).toThrow(/"layers.5.weight.csr.values" holds 12 at \(row 2, column 3\), where the mask is 0/);
    // Dense: the very last weight.
    const size = 30;
    const lastKept = elementOf(dense, 'layers.0.weight.mask', size - 1) === 1;
    const denseBad = lastKept ? withElement(dense, 'layers.0.weight.mask', size - 1, 0) : withElement(dense, 'layers.0.weight', size - 1, 0.5);
    if (lastKept) expect(elementOf(dense, 'layers.0.weight', size - 1)).not.toBe(0);
    expect(rejectCode(denseBad, 'E_BAD_MASK')).toMatch(new RegExp(`at index ${size - 1}, where its mask is 0`));
  });
});

describe('readModelHeader (inspect)', () => {
  it('summarizes parameters from the header alone', () => {
    const bytes = serializeModel(sampleRecord(SMALL_SPEC, { sparsity: 0.8, masks: true, seed: 11, training }), { encoding: 'auto' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = readModelHeader(bytes.subarray(0, 8 + n), { fileSize: bytes.length });
    expect(header.formatVersion).toBe('1');
    expect(header.spec).toEqual(SMALL_SPEC);
    expect(header.training).toEqual(training);
    const loaded = deserializeModel(bytes);
    for (const summary of header.params) {
      const param = loaded.params.get(summary.name)!;
      expect(summary.shape).toEqual(param.shape);
      expect(summary.encoding).toBe(param.csr !== undefined ? 'csr' : 'dense');
      expect(summary.nnz).toBe(param.csr?.values.length ?? null);
      expect(summary.hasMask).toBe(param.mask !== undefined);
    }
    const total = header.params.reduce((sum, p) => sum + p.storedBytes, 0);
    expect(total).toBe(bytes.length - 8 - n);
    expect(header.container.tensors.length).toBe(Object.keys(headerObject(bytes)).length - 1);
  });

  it('reports the same errors as a full load for header problems', () => {
    const bytes = serializeModel(sampleRecord(TINY_SPEC));
    expect(() => readModelHeader(withMetadata(bytes, 'format_version', '9'))).toThrow(/format_version "9"/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Golden files and regression fixtures: the format must not drift silently.
// ---------------------------------------------------------------------------------------------------------

describe('fixtures (read only: tests never write them)', () => {
  it('golden v1 files: today\'s writer produces them byte for byte, and they load', () => {
    for (const [name, bytes] of Object.entries(goldenBytes())) {
      const path = join(FIXTURE_DIR, name);
      expect(existsSync(path), `golden fixture ${path} is missing; ${REGENERATE}`).toBe(true);
      const golden = new Uint8Array(readFileSync(path));
      expect(bytes, `${name} changed: the writer no longer produces the committed file. A format change must bump format_version; ${REGENERATE}`).toEqual(golden);
      expectSameModel(goldenRecords()[name]!.record, deserializeModel(golden));
    }
  });

  it('bad files: every defined one is committed and listed, and each fails with its documented code', () => {
    const dir = join(FIXTURE_DIR, 'bad');
    const manifestPath = join(dir, 'manifest.json');
    expect(existsSync(manifestPath), `${manifestPath} is missing; ${REGENERATE}`).toBe(true);
    const stored = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
    expect(stored, `bad/manifest.json differs from the fixtures defined in test/fixtures/golden-models.ts; ${REGENERATE}`).toEqual(badManifest());
    for (const name of Object.keys(stored)) expect(existsSync(join(dir, name)), `bad fixture ${name} is missing; ${REGENERATE}`).toBe(true);
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
      expect(stored[name], `${name} is not in manifest.json`).toBeDefined();
      rejectCode(new Uint8Array(readFileSync(join(dir, name))), stored[name]!);
    }
  });

  it('the definitions themselves fail with their codes (so a regenerated set is right)', () => {
    for (const [name, { bytes, code }] of Object.entries(badFixtures())) expect(rejectCode(bytes, code), name).toBeTruthy();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Python: a model file is a plain safetensors file.
// ---------------------------------------------------------------------------------------------------------

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe('a model file read from Python', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-model-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.runIf(hasNumpy)('numpy rebuilds the same dense weights from a CSR file', () => {
    const record = sampleRecord(SMALL_SPEC, { sparsity: 0.8, masks: true, seed: 21, training });
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, serializeModel(record, { encoding: 'csr' }));
    const result = spawnSync(
      'python3',
      [
        '-c',
        `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__')
data = raw[8 + n:]
kinds = {'F32': '<f4', 'I32': '<i4', 'U16': '<u2', 'U8': 'u1'}
t = {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dtype=kinds[v['dtype']]).reshape(v['shape']) for k, v in header.items()}
encodings = json.loads(meta.get('encodings', '{}'))
out = {}
for name, enc in encodings.items():
    rows, cols = enc['shape']
    dense = np.zeros((rows, cols), dtype='<f4')
    p, i, v = t[name + '.csr.indptr'], t[name + '.csr.indices'], t[name + '.csr.values']
    for r in range(rows):
        dense[r, i[p[r]:p[r + 1]]] = v[p[r]:p[r + 1]]
    out[name] = [float(x) for x in dense.ravel()]
    assert ((t[name + '.mask'] == 0) <= (dense == 0)).all()
index_dtypes = {name: header[name + '.csr.indices']['dtype'] for name in encodings}
print(json.dumps({'format': meta['format'], 'version': meta['format_version'], 'weights': out, 'index_dtypes': index_dtypes}))
`,
        path,
      ],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    const read = JSON.parse(result.stdout) as { format: string; version: string; weights: Record<string, number[]>; index_dtypes: Record<string, string> };
    expect(Object.values(read.index_dtypes)).toEqual(['U16', 'U16', 'U16']);
    expect(read.format).toBe('sparsegrad');
    expect(read.version).toBe('1');
    expect(Object.keys(read.weights)).toEqual(['layers.0.weight', 'layers.3.weight', 'layers.5.weight']);
    for (const [name, values] of Object.entries(read.weights)) expect(values).toEqual(denseOf(record.params.get(name)));
  });
});
