/**
 * Encoding one parameter's data into the tensors of its compact encoding (entry.ts) and decoding them back.
 * Decoding checks every stream (bit-stream.ts, huffman.ts, relative-index.ts) and rebuilds the float32 values
 * from the codes, so a loaded record always holds both and they agree (model-params.ts checks it again).
 */

import { ConfigError, ModelFormatError } from '../../errors.ts';
import type { CsrRecord, ParamRecord } from '../model-file.ts';
import { csrDims } from '../model-params.ts';
import type { SafetensorsTensor } from '../safetensors-types.ts';
import { exactHalfBits } from '../../tensor/float16.ts';
import { packedBytes, packFixed, unpackFixed } from './bit-stream.ts';
import { type EncodingEntry, type HuffmanStream } from './entry.ts';
import { decodeHuffman, encodeHuffman, huffmanBits, huffmanLengths } from './huffman.ts';
import { checkQuantizedValues, dequantizedValue, type QuantizedValues } from './quantized-values.ts';
import { countGapSymbols, gapSymbols, structureFromGaps } from './relative-index.ts';

/** How the writer stores CSR structure and whether it adds the Huffman stage (SerializeOptions). */
export interface CompactOptions {
  /** 'plain' (default): row pointers + U16/I32 columns; 'gaps': b-bit relative indices (relative-index.ts). */
  readonly indices?: 'plain' | 'gaps';
  /** Bits per gap symbol, 1…8 (default: the width that gives the smallest stream). */
  readonly gapBits?: number;
  /** Huffman-code the codebook indices and the gaps where that is smaller (default false). */
  readonly huffman?: boolean;
}

/** A weight in one canonical form for encoding: every value, which entries are stored, and each entry's code. */
interface DenseView {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
  readonly stored: Uint8Array;
  /** True when `stored` came from a mask or a CSR structure (so a dense encoding must keep it as a mask). */
  readonly structured: boolean;
  readonly quantized: QuantizedValues | undefined;
  /** Code of every entry (0 where not stored), or null for float32 values. */
  readonly codes: Int8Array | Uint8Array | null;
}

function denseView(param: ParamRecord): DenseView {
  const [rows, cols] = matrixDims(param.shape);
  const size = rows * cols;
  const q = param.quantized;
  const values = new Float32Array(size);
  const stored = new Uint8Array(size);
  const codes = q === undefined ? null : q.kind === 'int8' ? new Int8Array(size) : new Uint8Array(size);
  if (param.csr !== undefined) {
    const { indptr, indices, values: csrValues } = param.csr;
    for (let r = 0; r < rows; r++) {
      for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) {
        const i = r * cols + (indices[k] as number);
        values[i] = csrValues[k] as number;
        stored[i] = 1;
        if (codes !== null) codes[i] = (q as QuantizedValues).codes[k] as number;
      }
    }
    return { rows, cols, values, stored, structured: true, quantized: q, codes };
  }
  const dense = param.dense as Float32Array;
  values.set(dense);
  for (let i = 0; i < size; i++) stored[i] = param.mask !== undefined ? (param.mask[i] as number) : dense[i] !== 0 || codes !== null ? 1 : 0;
  if (codes !== null) codes.set((q as QuantizedValues).codes as ArrayLike<number>);
  return { rows, cols, values, stored, structured: param.mask !== undefined, quantized: q, codes };
}

/** Tensors and the metadata entry of one encoded parameter. */
export interface EncodedParam {
  readonly entry: EncodingEntry;
  readonly tensors: [string, SafetensorsTensor][];
  readonly bytes: number;
}

/**
 * Encodes a checked 2-D or 4-D parameter as `kind` ('dense' or 'csr') with compact options; a conv2d weight
 * [out, in/groups, kh, kw] is the matrix [out, in/groups·kh·kw] (one row, and one int8 scale, per filter), and
 * its dense tensors (values, int8 codes, mask) keep the 4-D shape. For dense codebook values with unstored
 * entries a mask tensor is written (the codebook need not hold 0); callers add no other mask.
 */
export function encodeParam(name: string, param: ParamRecord, kind: 'dense' | 'csr', options: CompactOptions): EncodedParam {
  const view = denseView(param);
  const { rows, cols } = view;
  const tensors: [string, SafetensorsTensor][] = [];
  const q = view.quantized;
  let huffman: HuffmanStream[] = [];
  let entry: EncodingEntry = { kind, values: q === undefined ? 'f32' : q.kind, bits: q?.kind === 'codebook' ? q.bits : null, indices: 'plain', gapBits: null, entries: null, symbols: null, huffman: [] };
  // The positions this encoding stores: the stored set for CSR (in row-major order), every entry for dense.
  const positions: number[] = [];
  for (let i = 0; i < view.values.length; i++) if (kind === 'dense' || view.stored[i] === 1) positions.push(i);
  if (kind === 'csr') {
    const indptr = new Int32Array(rows + 1);
    const indices = Int32Array.from(positions, (i) => i % cols);
    for (const i of positions) indptr[Math.floor(i / cols) + 1]!++;
    for (let r = 0; r < rows; r++) indptr[r + 1]! += indptr[r] as number;
    if ((options.indices ?? 'plain') === 'gaps') {
      const gapBits = options.gapBits ?? bestGapBits(rows, cols, indptr, indices, options.huffman ?? false);
      const symbols = gapSymbols(rows, cols, indptr, indices, gapBits);
      const stream = symbolStream(symbols, gapBits, options.huffman ?? false);
      tensors.push(...streamTensors(`${name}.csr.gaps`, stream));
      if (stream.lengths !== null) huffman.push('gaps');
      entry = { ...entry, indices: 'gaps', gapBits, entries: positions.length, symbols: symbols.length };
    } else {
      tensors.push([`${name}.csr.indptr`, { dtype: 'I32', shape: [rows + 1], data: indptr }]);
      tensors.push([`${name}.csr.indices`, cols <= 65536 ? { dtype: 'U16', shape: [indices.length], data: Uint16Array.from(indices) } : { dtype: 'I32', shape: [indices.length], data: indices }]);
    }
  }
  const count = positions.length;
  const valueShape = kind === 'csr' ? [count] : [...param.shape];
  if (q === undefined) {
    const values = Float32Array.from(positions, (i) => view.values[i] as number);
    // Dense values may be halves (F16); CSR values stay F32 (trained float weights are almost never halves).
    tensors.push(kind === 'csr' ? [`${name}.csr.values`, { dtype: 'F32', shape: valueShape, data: values }] : [name, floatTensor(valueShape, values, true)]);
  } else if (q.kind === 'int8') {
    tensors.push([`${name}.int8`, { dtype: 'I8', shape: valueShape, data: Int8Array.from(positions, (i) => (view.codes as Int8Array)[i] as number) }]);
    tensors.push([`${name}.scales`, { dtype: 'F32', shape: [rows], data: Float32Array.from(q.scales) }]);
  } else {
    const codes = Uint8Array.from(positions, (i) => (view.stored[i] === 1 ? ((view.codes as Uint8Array)[i] as number) : 0));
    tensors.push([`${name}.codebook`, floatTensor([q.codebook.length], Float32Array.from(q.codebook), true)]);
    const stream = symbolStream(codes, q.bits, options.huffman ?? false);
    tensors.push(...streamTensors(`${name}.codes`, stream));
    if (stream.lengths !== null) huffman = ['codes', ...huffman];
  }
  const needsMask = kind === 'dense' && (param.mask !== undefined || (view.structured && q?.kind === 'codebook' && view.stored.includes(0)));
  if (needsMask) tensors.push([`${name}.mask`, { dtype: 'U8', shape: [...param.shape], data: Uint8Array.from(view.stored) }]);
  entry = { ...entry, huffman };
  const bytes = tensors.reduce((sum, [, t]) => sum + t.data.byteLength, 0);
  return { entry, tensors, bytes };
}

/**
 * A float tensor in the fewest bytes that hold it exactly: with `halves` and every value a finite float16
 * (e.g. biases and centroids rounded by the quantizers' float16 option), F16 bit patterns; else F32. Lossless
 * either way: the loader widens F16 back to the same float32 values.
 */
export function floatTensor(shape: readonly number[], values: Float32Array, halves: boolean): SafetensorsTensor {
  const bits = halves ? exactHalfBits(values) : null;
  return bits === null ? { dtype: 'F32', shape, data: values } : { dtype: 'F16', shape, data: bits };
}

/**
 * What a Huffman table costs in the header besides its bytes: its tensor-table entry (about 80 bytes of JSON)
 * and the stream's name in the `huffman` list. Counted so the Huffman stage is used only where it pays.
 */
const HUFFMAN_TABLE_HEADER_BYTES = 96;

/** A symbol stream as fixed-width fields, or Huffman-coded when asked and smaller (its table included). */
function symbolStream(symbols: Uint8Array, bits: number, huffman: boolean): { bytes: Uint8Array; lengths: Uint8Array | null } {
  const fixed = { bytes: packFixed(symbols, bits), lengths: null };
  if (!huffman || symbols.length === 0) return fixed;
  const counts = new Float64Array(2 ** bits);
  for (const s of symbols) counts[s]! += 1;
  const lengths = huffmanLengths(counts);
  const coded = Math.ceil(huffmanBits(counts, lengths) / 8) + lengths.length + HUFFMAN_TABLE_HEADER_BYTES;
  return coded < fixed.bytes.length ? { bytes: encodeHuffman(symbols, lengths), lengths } : fixed;
}

function streamTensors(name: string, stream: { bytes: Uint8Array; lengths: Uint8Array | null }): [string, SafetensorsTensor][] {
  const out: [string, SafetensorsTensor][] = [[name, { dtype: 'U8', shape: [stream.bytes.length], data: stream.bytes }]];
  if (stream.lengths !== null) out.push([`${name}.lengths`, { dtype: 'U8', shape: [stream.lengths.length], data: stream.lengths }]);
  return out;
}

/** The gap width (1…8) whose stream is smallest, Huffman-coded or not. */
function bestGapBits(rows: number, cols: number, indptr: Int32Array, indices: Int32Array, huffman: boolean): number {
  let best = 8, bestBytes = Infinity;
  for (let bits = 1; bits <= 8; bits++) {
    const histogram = new Float64Array(2 ** bits);
    const count = countGapSymbols(rows, cols, indptr, indices, bits, histogram);
    let bytes = packedBytes(count, bits);
    if (huffman && count > 0) bytes = Math.min(bytes, Math.ceil(huffmanBits(histogram, huffmanLengths(histogram)) / 8) + 2 ** bits + HUFFMAN_TABLE_HEADER_BYTES);
    if (bytes < bestBytes) [best, bestBytes] = [bits, bytes];
  }
  return best;
}

/**
 * Decodes a parameter stored with an extended encoding from its tensors (already matched against the header
 * by planEncodedTensors). Returns its record: values, structure, codes and mask. Throws ModelFormatError for
 * every malformed stream, naming the tensor.
 */
export function decodeParam(name: string, shape: readonly number[], entry: EncodingEntry, tensor: (name: string) => SafetensorsTensor['data'], hasMask: boolean): ParamRecord {
  const [rows, cols] = matrixDims(shape);
  let csr: { indptr: Int32Array; indices: Int32Array } | null = null;
  if (entry.kind === 'csr') {
    if (entry.indices === 'gaps') {
      const what = `tensor "${name}.csr.gaps"`;
      const symbols = readStream(tensor, `${name}.csr.gaps`, entry.symbols as number, entry.gapBits as number, entry.huffman.includes('gaps'), what);
      csr = structureFromGaps(symbols, rows, cols, entry.gapBits as number, what);
      if (csr.indices.length !== entry.entries) {
        throw new ModelFormatError('E_BAD_GAPS', `${what}: the gaps give ${csr.indices.length} entries but __metadata__.encodings declares ${entry.entries}`);
      }
    } else {
      const stored = tensor(`${name}.csr.indices`);
      csr = { indptr: tensor(`${name}.csr.indptr`) as Int32Array, indices: stored instanceof Int32Array ? stored : Int32Array.from(stored) };
    }
  }
  const count = csr === null ? rows * cols : csr.indices.length;
  let quantized: QuantizedValues | undefined;
  if (entry.values === 'int8') {
    quantized = { kind: 'int8', codes: tensor(`${name}.int8`) as Int8Array, scales: tensor(`${name}.scales`) as Float32Array };
  } else if (entry.values === 'codebook') {
    const bits = entry.bits as number;
    const codes = readStream(tensor, `${name}.codes`, count, bits, entry.huffman.includes('codes'), `tensor "${name}.codes"`);
    quantized = { kind: 'codebook', bits, codebook: tensor(`${name}.codebook`) as Float32Array, codes };
  }
  const mask = hasMask ? (tensor(`${name}.mask`) as Uint8Array) : undefined;
  const values = entry.values === 'f32' ? (tensor(csr === null ? name : `${name}.csr.values`) as Float32Array) : new Float32Array(count);
  if (quantized !== undefined) {
    checkQuantizedValues(name, quantized, rows, count);
    dequantizeInto(quantized, values, csr, cols, mask);
  }
  const base = { shape, ...(mask === undefined ? {} : { mask }), ...(quantized === undefined ? {} : { quantized }) };
  if (csr === null) return { ...base, dense: values };
  const record: CsrRecord = { nRows: rows, nCols: cols, indptr: csr.indptr, indices: csr.indices, values };
  return { ...base, csr: record };
}

function readStream(tensor: (name: string) => SafetensorsTensor['data'], name: string, count: number, bits: number, huffman: boolean, what: string): Uint8Array {
  const bytes = tensor(name) as Uint8Array;
  return huffman ? decodeHuffman(bytes, tensor(`${name}.lengths`) as Uint8Array, count, what) : unpackFixed(bytes, count, bits, what);
}

/** values[k] = the value of code k (0 where a dense weight's mask prunes it); the codes are checked already. */
function dequantizeInto(q: QuantizedValues, values: Float32Array, csr: { indptr: Int32Array } | null, cols: number, mask: Uint8Array | undefined): void {
  let row = 0;
  for (let k = 0; k < values.length; k++) {
    if (csr === null) row = Math.floor(k / cols);
    else while ((csr.indptr[row + 1] as number) <= k) row++;
    values[k] = mask !== undefined && mask[k] === 0 ? 0 : dequantizedValue(q, k, row);
  }
}

/** The matrix a linear [rows, cols] or conv2d [out, in/groups, kh, kw] weight is encoded as (csrDims). */
function matrixDims(shape: readonly number[]): [number, number] {
  const dims = csrDims(shape);
  if (dims === null) throw new ConfigError(`compact encodings apply to 2-D and 4-D weights, not to shape [${shape.join(', ')}]`);
  return dims;
}

/** Throws ConfigError unless CompactOptions are valid. */
export function checkCompactOptions(options: CompactOptions): void {
  if (options.indices !== undefined && options.indices !== 'plain' && options.indices !== 'gaps') throw new ConfigError(`indices must be 'plain' or 'gaps', got '${String(options.indices)}'`);
  if (options.gapBits !== undefined && (!Number.isInteger(options.gapBits) || options.gapBits < 1 || options.gapBits > 8)) throw new ConfigError(`gapBits must be an integer in 1…8, got ${options.gapBits}`);
  if (options.huffman !== undefined && typeof options.huffman !== 'boolean') throw new ConfigError('huffman must be true or false');
}
