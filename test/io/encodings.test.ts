import { describe, expect, it } from 'vitest';
import { packFixed, unpackFixed } from '../../src/io/encodings/bit-stream.ts';
import { decodeHuffman, encodeHuffman, huffmanLengths, MAX_HUFFMAN_LENGTH } from '../../src/io/encodings/huffman.ts';
import { gapSymbols, structureFromGaps } from '../../src/io/encodings/relative-index.ts';
import { deserializeModel, readModelHeader, serializeModel, type ModelRecord, type SerializeOptions } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { csrFromDense } from '../../src/sparse/convert.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { codeOf, SMALL_SPEC } from '../fixtures/model-files.ts';
import { quantizedRecord } from '../fixtures/quantized-files.ts';

describe('bit streams', () => {
  it('round-trip every width and refuse wrong lengths, trailing bytes and non-zero padding', () => {
    const rng = new Rng(1);
    for (let bits = 1; bits <= 8; bits++) {
      const values = Uint8Array.from({ length: 37 }, () => rng.int(2 ** bits));
      const bytes = packFixed(values, bits);
      expect(bytes.length).toBe(Math.ceil((37 * bits) / 8));
      expect(Array.from(unpackFixed(bytes, 37, bits, 't'))).toEqual(Array.from(values));
      expect(codeOf(() => unpackFixed(bytes.subarray(0, bytes.length - 1), 37, bits, 't'))).toBe('E_BAD_ENCODING');
      expect(codeOf(() => unpackFixed(Uint8Array.from([...bytes, 0]), 37, bits, 't'))).toBe('E_BAD_ENCODING');
      if ((37 * bits) % 8 !== 0) {
        const dirty = bytes.slice();
        dirty[dirty.length - 1]! |= 0x80;
        expect(codeOf(() => unpackFixed(dirty, 37, bits, 't'))).toBe('E_BAD_ENCODING');
      }
    }
  });
});

describe('canonical Huffman', () => {
  it('round-trips skewed, uniform, single-symbol and empty streams', () => {
    const rng = new Rng(2);
    const cases = [
      Uint8Array.from({ length: 500 }, () => Math.min(31, Math.floor(-Math.log2(rng.uniform() + 1e-9)))),
      Uint8Array.from({ length: 300 }, () => rng.int(256)),
      new Uint8Array(40).fill(7),
      new Uint8Array(0),
    ];
    for (const symbols of cases) {
      const counts = new Float64Array(256);
      for (const s of symbols) counts[s]! += 1;
      const lengths = huffmanLengths(counts);
      const bytes = encodeHuffman(symbols, lengths);
      expect(Array.from(decodeHuffman(bytes, lengths, symbols.length, 't'))).toEqual(Array.from(symbols));
    }
  });

  it('limits code lengths to 15 bits even for Fibonacci-like counts', () => {
    const counts = new Float64Array(40);
    let [a, b] = [1, 1];
    for (let s = 0; s < 40; s++) {
      counts[s] = a;
      [a, b] = [b, a + b];
    }
    const lengths = huffmanLengths(counts);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_HUFFMAN_LENGTH);
    const symbols = Uint8Array.from({ length: 200 }, (_, i) => i % 40);
    expect(Array.from(decodeHuffman(encodeHuffman(symbols, lengths), lengths, 200, 't'))).toEqual(Array.from(symbols));
  });

  it('refuses over-subscribed, under-full and too-long tables, truncated streams and dead codes', () => {
    const table = (...lengths: number[]): Uint8Array => Uint8Array.from(lengths);
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(1, 1, 1), 1, 't'))).toBe('E_BAD_HUFFMAN'); // over-subscribed
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(1, 2), 1, 't'))).toBe('E_BAD_HUFFMAN'); // under-full
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(16, 1), 1, 't'))).toBe('E_BAD_HUFFMAN');
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(0, 2), 1, 't'))).toBe('E_BAD_HUFFMAN'); // one symbol, not length 1
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(0, 0), 1, 't'))).toBe('E_BAD_HUFFMAN'); // empty table, symbols declared
    expect(codeOf(() => decodeHuffman(new Uint8Array(1), table(1, 1), 9, 't'))).toBe('E_BAD_ENCODING'); // truncated
    expect(codeOf(() => decodeHuffman(Uint8Array.from([1]), table(1, 0), 1, 't'))).toBe('E_BAD_ENCODING'); // the single code is 0
    expect(codeOf(() => decodeHuffman(Uint8Array.from([0, 0]), table(1, 1), 1, 't'))).toBe('E_BAD_ENCODING'); // trailing byte
  });
});

describe('relative indices (gaps)', () => {
  it('round-trip structures with empty rows, long gaps, 0 % and 100 % density at every width', () => {
    const rng = new Rng(3);
    for (const [rows, cols, density] of [[7, 50, 0.1], [1, 1, 1], [3, 4, 0], [5, 17, 1], [13, 300, 0.02]] as const) {
      const dense = Float32Array.from({ length: rows * cols }, () => (rng.uniform() < density ? 1 + rng.uniform() : 0));
      if (rows === 7) dense.fill(0, 2 * cols, 4 * cols);
      const csr = csrFromDense(dense, rows, cols);
      for (let bits = 1; bits <= 8; bits++) {
        const symbols = gapSymbols(rows, cols, csr.indptr, csr.indices, bits);
        const back = structureFromGaps(symbols, rows, cols, bits, 't');
        expect(Array.from(back.indptr)).toEqual(Array.from(csr.indptr));
        expect(Array.from(back.indices)).toEqual(Array.from(csr.indices));
      }
    }
  });

  it('refuses gaps that overrun the matrix, a trailing filler and symbols too wide for the width', () => {
    expect(codeOf(() => structureFromGaps(Uint8Array.from([7, 7]), 2, 5, 3, 't'))).toBe('E_BAD_GAPS'); // 6 + 7 > 10
    expect(codeOf(() => structureFromGaps(Uint8Array.from([1, 0]), 2, 5, 3, 't'))).toBe('E_BAD_GAPS');
    expect(codeOf(() => structureFromGaps(Uint8Array.from([9]), 2, 5, 3, 't'))).toBe('E_BAD_GAPS');
  });
});

const VARIANTS: [string, ModelRecord, SerializeOptions][] = [
  ['int8 dense', quantizedRecord(SMALL_SPEC, { seed: 1, method: 'int8' }), { encoding: 'dense' }],
  ['int8 CSR gaps', quantizedRecord(SMALL_SPEC, { seed: 2, method: 'int8', sparsity: 0.6, masks: true }), { encoding: 'csr', indices: 'gaps' }],
  ['codebook dense masked', quantizedRecord(SMALL_SPEC, { seed: 3, method: 'codebook', sparsity: 0.5, masks: true }), { encoding: 'dense', huffman: true }],
  ['codebook CSR gaps huffman', quantizedRecord(SMALL_SPEC, { seed: 4, method: 'codebook', bits: 2, sparsity: 0.5, masks: true }), { encoding: 'csr', indices: 'gaps', gapBits: 2, huffman: true }],
  ['codebook CSR plain', quantizedRecord(SMALL_SPEC, { seed: 5, method: 'codebook', bits: 5, sparsity: 0.3, masks: true }), { encoding: 'csr' }],
  ['f32 CSR gaps', quantizedRecord(SMALL_SPEC, { seed: 6, method: 'int8', sparsity: 0.7, masks: true }), { encoding: 'csr', indices: 'gaps', huffman: true }],
];

describe('compact encodings in the model file', () => {
  for (const [label, record, options] of VARIANTS) {
    it(`${label}: round trip is byte-identical and keeps values, codes and structure`, () => {
      const bytes = serializeModel(label === 'f32 CSR gaps' ? withoutCodes(record) : record, options);
      const loaded = deserializeModel(bytes);
      expect(serializeModel(loaded, options)).toEqual(bytes);
      for (const [name, param] of loaded.params) {
        const original = record.params.get(name)!;
        const dense = param.dense ?? denseOf(param.csr!);
        expect(Array.from(dense)).toEqual(Array.from(original.dense ?? denseOf(original.csr!)));
        if (param.shape.length === 2 && label !== 'f32 CSR gaps') expect(param.quantized?.kind).toBe(original.quantized!.kind);
      }
      const header = readModelHeader(bytes);
      const weight = header.params.find((p) => p.name === 'layers.0.weight')!;
      expect(weight.coding).not.toBe('');
      expect(header.params.reduce((sum, p) => sum + p.storedBytes, 0)).toBe(header.container.fileSize - header.container.dataStart);
    });
  }

  it('compact encodings are smaller: codebook + gaps + Huffman < f32 CSR', () => {
    const record = quantizedRecord({ layers: [{ type: 'linear', inFeatures: 200, outFeatures: 60, bias: true }] }, { seed: 7, method: 'codebook', bits: 4, sparsity: 0.9, masks: true });
    const plain = serializeModel(withoutCodes(record), { encoding: 'csr' }).length;
    const quantized = serializeModel(record, { encoding: 'csr', indices: 'gaps' }).length;
    const entropy = serializeModel(record, { encoding: 'csr', indices: 'gaps', huffman: true }).length;
    expect(quantized).toBeLessThan(plain / 2);
    expect(entropy).toBeLessThanOrEqual(quantized);
    expect(readModelHeader(serializeModel(record, { encoding: 'csr', indices: 'gaps', huffman: true })).params[0]!.coding).toMatch(/codebook 4-bit.*gaps/);
  });

  it('the loader refuses every malformed encoding with a typed error', () => {
    const edit = (bytes: Uint8Array, change: (tensors: Map<string, { dtype: string; shape: readonly number[]; data: ArrayLike<number> }>, metadata: Map<string, string>) => void): string => {
      const file = decodeSafetensors(bytes);
      const tensors = new Map([...file.tensors].map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
      const metadata = new Map(file.metadata);
      change(tensors as never, metadata);
      return codeOf(() => deserializeModel(encodeSafetensors(tensors as never, metadata)));
    };
    const int8 = serializeModel(VARIANTS[0]![1], VARIANTS[0]![2]);
    const wide = { layers: [{ type: 'linear' as const, inFeatures: 100, outFeatures: 90, bias: true }] };
    const coded = serializeModel(quantizedRecord(wide, { seed: 8, method: 'codebook', bits: 8, sparsity: 0.5, masks: true }), { encoding: 'csr', indices: 'gaps', huffman: true });
    const plainCodebook = serializeModel(VARIANTS[4]![1], VARIANTS[4]![2]);
    const setScale = (value: number) => (t: Map<string, { data: ArrayLike<number> }>) => ((t.get('layers.0.weight.scales')!.data as Float32Array)[1] = value);
    expect(edit(int8, setScale(0))).toBe('E_BAD_QUANT');
    expect(edit(int8, setScale(NaN))).toBe('E_BAD_QUANT');
    expect(edit(int8, setScale(-1))).toBe('E_BAD_QUANT');
    expect(edit(int8, (t) => ((t.get('layers.0.weight.int8')!.data as Int8Array)[0] = -128))).toBe('E_BAD_QUANT');
    // A codebook index ≥ the codebook's size: shrink the codebook under 5-bit codes.
    expect(edit(plainCodebook, (t) => {
      const codebook = t.get('layers.0.weight.codebook')!;
      t.set('layers.0.weight.codebook', { ...codebook, shape: [1], data: Float32Array.from([1]) });
    })).toBe('E_BAD_QUANT');
    expect(edit(plainCodebook, (t) => ((t.get('layers.0.weight.codebook')!.data as Float32Array)[0] = Infinity))).toBe('E_BAD_QUANT');
    // Truncated bit streams: the fixed-width stream one byte short, the Huffman stream cut.
    expect(edit(plainCodebook, (t) => {
      const codes = t.get('layers.0.weight.codes')!;
      t.set('layers.0.weight.codes', { ...codes, shape: [codes.data.length - 1], data: (codes.data as Uint8Array).slice(0, -1) });
    })).toBe('E_BAD_SHAPE');
    expect(decodeSafetensors(coded).tensors.has('layers.0.weight.codes.lengths')).toBe(true);
    const stream = 'layers.0.weight.codes';
    expect(edit(coded, (t) => {
      const bytes = t.get(stream)!;
      t.set(stream, { ...bytes, shape: [1], data: (bytes.data as Uint8Array).slice(0, 1) });
    })).toBe('E_BAD_ENCODING');
    // Huffman tables that over-subscribe or under-fill the code space.
    expect(edit(coded, (t) => ((t.get(`${stream}.lengths`)!.data as Uint8Array).fill(1)))).toBe('E_BAD_HUFFMAN');
    expect(edit(coded, (t) => {
      const lengths = t.get(`${stream}.lengths`)!.data as Uint8Array;
      lengths[lengths.findIndex((l) => l > 0)]! += 1;
    })).toBe('E_BAD_HUFFMAN');
    // Gaps that overrun the matrix: declare fewer rows' worth of room by editing a symbol upwards.
    const gaps = serializeModel(VARIANTS[1]![1], { encoding: 'csr', indices: 'gaps', gapBits: 8 });
    expect(edit(gaps, (t) => {
      const data = t.get('layers.0.weight.csr.gaps')!.data as Uint8Array;
      data[data.length - 1] = 255;
    })).toBe('E_BAD_GAPS');
    // Entry counts that disagree with the stream, unknown fields, a "huffman" list that does not apply.
    expect(edit(gaps, (_, m) => m.set('encodings', m.get('encodings')!.replace(/"entries":(\d+)/, (_, n) => `"entries":${Number(n) - 1}`)))).not.toBe('accepted');
    expect(edit(gaps, (_, m) => m.set('encodings', m.get('encodings')!.replace('"indices":"gaps"', '"indices":"gaps","zip":1')))).toBe('E_BAD_METADATA');
    expect(edit(int8, (_, m) => m.set('encodings', m.get('encodings')!.replace('"values":"int8"', '"values":"int8","huffman":["codes"]')))).toBe('E_BAD_METADATA');
    expect(edit(int8, (_, m) => m.set('encodings', m.get('encodings')!.replace('"values":"int8"', '"values":"int4"')))).toBe('E_BAD_METADATA');
  });
});

function withoutCodes(record: ModelRecord): ModelRecord {
  return { ...record, params: new Map([...record.params].map(([k, p]) => [k, { ...p, quantized: undefined }] as const).map(([k, { quantized: _, ...rest }]) => [k, rest])) };
}

function denseOf(csr: { nRows: number; nCols: number; indptr: Int32Array; indices: Int32Array; values: Float32Array }): Float32Array {
  const out = new Float32Array(csr.nRows * csr.nCols);
  for (let r = 0; r < csr.nRows; r++) for (let k = csr.indptr[r]!; k < csr.indptr[r + 1]!; k++) out[r * csr.nCols + csr.indices[k]!] = csr.values[k]!;
  return out;
}
