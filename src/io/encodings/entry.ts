/**
 * How one parameter is encoded, as `__metadata__.encodings` states it, and the tensors that encoding needs.
 *
 *     {"kind":"csr","shape":[r,c]}                          float32 CSR, plain column indices (format 1.0)
 *     {"kind":"dense"|"csr","shape":[r,c],                  the compact encodings (issue 14), fields in this order:
 *      "values":"int8"|"codebook", "bits":B,                  quantized values (bits: codebook only, 1…8)
 *      "indices":"gaps", "gapBits":b, "entries":N, "symbols":S,   CSR structure as b-bit relative gaps
 *      "huffman":["codes","gaps"]}                            canonical Huffman on codebook codes and/or gaps
 *
 * Tensors, for parameter P with shape [r, c] (count = r·c dense, N stored entries in CSR). A conv2d weight
 * [out, in/groups, kh, kw] is the matrix [r, c] = [out, in/groups·kh·kw] (one row, and one int8 scale, per
 * filter); its dense tensors (P.int8, P.mask) keep the 4-D shape:
 *
 *     P.csr.indptr I32 [r+1], P.csr.indices U16/I32 [N]      plain CSR structure
 *     P.csr.gaps U8 [⌈S·b/8⌉]                                 gap symbols (relative-index.ts), b bits each
 *     P.csr.gaps U8 [any], P.csr.gaps.lengths U8 [2^b]        the same, Huffman-coded (huffman.ts)
 *     P.csr.values F32 [N]  /  P F32 [r, c]                   float32 values (CSR / dense)
 *     P.int8 I8 [count], P.scales F32 [r]                     int8 codes and per-row scales
 *     P.codebook F32/F16 [K ≤ 2^B], P.codes U8 [⌈count·B/8⌉]  codebook (F16 when every centroid is a half)
 *                                                             and bit-packed indices
 *     P.codes U8 [any], P.codes.lengths U8 [2^B]              the indices, Huffman-coded
 *
 * Everything here is checked from the header alone (names, dtypes, shapes, field ranges), so `inspect` can
 * report a file without reading its weights; the streams themselves are checked when decoded (param-codec.ts).
 */

import { ModelFormatError } from '../../errors.ts';
import { formatShape, shapesEqual } from '../../tensor/shape.ts';
import { MAX_CODEBOOK_BITS, MIN_CODEBOOK_BITS } from './quantized-values.ts';
import { packedBytes } from './bit-stream.ts';

/** Which streams a parameter's Huffman stage codes. */
export type HuffmanStream = 'codes' | 'gaps';

/** One parameter's encoding; see the file comment. */
export interface EncodingEntry {
  readonly kind: 'dense' | 'csr';
  readonly values: 'f32' | 'int8' | 'codebook';
  /** Bits per codebook index; null unless values is 'codebook'. */
  readonly bits: number | null;
  readonly indices: 'plain' | 'gaps';
  /** Bits per gap symbol, entry count and symbol count; null unless indices is 'gaps'. */
  readonly gapBits: number | null;
  readonly entries: number | null;
  readonly symbols: number | null;
  readonly huffman: readonly HuffmanStream[];
}

/** The encoding of a parameter that `encodings` does not list: float32, dense. */
export const DENSE_F32: EncodingEntry = { kind: 'dense', values: 'f32', bits: null, indices: 'plain', gapBits: null, entries: null, symbols: null, huffman: [] };

/** True for the two encodings of format 1.0 (float32 dense or plain CSR), which the old code paths handle. */
export function isPlainEncoding(entry: EncodingEntry): boolean {
  return entry.values === 'f32' && entry.indices === 'plain';
}

/** The canonical JSON of an entry (fields in a fixed order, only those that apply). */
export function entryToJson(entry: EncodingEntry, shape: readonly number[]): string {
  const fields = [`"kind":"${entry.kind}"`, `"shape":[${shape.join(',')}]`];
  if (entry.values !== 'f32') fields.push(`"values":"${entry.values}"`);
  if (entry.bits !== null) fields.push(`"bits":${entry.bits}`);
  if (entry.indices === 'gaps') fields.push(`"indices":"gaps"`, `"gapBits":${entry.gapBits}`, `"entries":${entry.entries}`, `"symbols":${entry.symbols}`);
  if (entry.huffman.length > 0) fields.push(`"huffman":[${entry.huffman.map((s) => `"${s}"`).join(',')}]`);
  return `{${fields.join(',')}}`;
}

/**
 * Reads one `encodings` entry for a parameter of `shape` from its plain-JSON value, strictly: known fields
 * only, each where it applies and in range. ModelFormatError('E_BAD_METADATA', or 'E_BAD_SHAPE' for the shape).
 */
export function readEntry(name: string, plain: Record<string, unknown>, shape: readonly number[]): EncodingEntry {
  const fail = (why: string): never => {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings entry for "${name}": ${why}`);
  };
  const keys = Object.keys(plain);
  const allowed = ['kind', 'shape', 'values', 'bits', 'indices', 'gapBits', 'entries', 'symbols', 'huffman'];
  const unknown = keys.find((key) => !allowed.includes(key));
  if (unknown !== undefined) fail(`unknown field ${JSON.stringify(unknown)} (known: ${allowed.join(', ')})`);
  const kind = plain['kind'];
  if (kind !== 'dense' && kind !== 'csr') fail(`"kind" must be "dense" or "csr", got ${JSON.stringify(kind)}`);
  if (!Array.isArray(plain['shape'])) fail('"shape" must be an array');
  if (shape.length !== 2 && shape.length !== 4) fail(`"${name}" is ${shape.length}-D; only 2-D (linear) and 4-D (conv2d) weights have an encoding entry`);
  if (!shapesEqual(plain['shape'] as number[], shape)) {
    throw new ModelFormatError('E_BAD_SHAPE', `__metadata__.encodings gives "${name}" shape ${JSON.stringify(plain['shape'])} but the architecture needs ${formatShape(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const values = plain['values'] ?? 'f32';
  if (values !== 'int8' && values !== 'codebook' && !(values === 'f32' && !('values' in plain))) fail(`"values" must be "int8" or "codebook", got ${JSON.stringify(plain['values'])}`);
  const integerField = (key: string, min: number, max: number): number => {
    const v = plain[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`"${key}" must be an integer in ${min}…${max}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const bits = values === 'codebook' ? integerField('bits', MIN_CODEBOOK_BITS, MAX_CODEBOOK_BITS) : null;
  if (bits === null && 'bits' in plain) fail('"bits" applies only to "values":"codebook"');
  const indices = plain['indices'] ?? 'plain';
  if (indices !== 'gaps' && !(indices === 'plain' && !('indices' in plain))) fail(`"indices" must be "gaps", got ${JSON.stringify(plain['indices'])}`);
  if (indices === 'gaps' && kind !== 'csr') fail('"indices":"gaps" applies only to "kind":"csr"');
  let gapBits: number | null = null, entries: number | null = null, symbols: number | null = null;
  if (indices === 'gaps') {
    gapBits = integerField('gapBits', 1, 8);
    entries = integerField('entries', 0, size);
    symbols = integerField('symbols', entries, size);
  } else if (['gapBits', 'entries', 'symbols'].some((key) => key in plain)) {
    fail('"gapBits", "entries" and "symbols" apply only to "indices":"gaps"');
  }
  let huffman: HuffmanStream[] = [];
  if ('huffman' in plain) {
    const list = plain['huffman'];
    const canonical = [values === 'codebook' ? 'codes' : null, indices === 'gaps' ? 'gaps' : null].filter((s) => s !== null);
    if (!Array.isArray(list) || list.length === 0 || list.some((s, i) => typeof s !== 'string' || !canonical.includes(s) || list.indexOf(s) !== i)
      || list.some((s, i) => i > 0 && canonical.indexOf(s as string) < canonical.indexOf(list[i - 1] as string))) {
      fail(`"huffman" must list, in this order and once each, some of ${JSON.stringify(canonical)} (codes need "values":"codebook", gaps need "indices":"gaps")`);
    }
    huffman = list as HuffmanStream[];
  }
  const entry: EncodingEntry = { kind: kind as 'dense' | 'csr', values: values as EncodingEntry['values'], bits, indices: indices as EncodingEntry['indices'], gapBits, entries, symbols, huffman };
  if (entry.kind === 'dense' && entry.values === 'f32') fail('a dense float32 parameter is not listed in "encodings"');
  if (entry.kind === 'csr' && isPlainEncoding(entry) && keys.length !== 2) fail('must be exactly {"kind":"csr","shape":[the weight\'s dimensions]}');
  return entry;
}

/** Checks one tensor of the table and marks it used (see model-params.ts); returns its shape. */
export type NeedTensor = (name: string, dtypes: string | readonly string[], shape: readonly number[] | null, why: string) => readonly number[];

/**
 * Checks the tensors an extended (non-plain) encoding needs, from the header alone, and returns the stored
 * entry count (null for dense). The plain CSR structure is checked by the caller and its count passed in.
 */
export function planEncodedTensors(name: string, shape: readonly number[], entry: EncodingEntry, need: NeedTensor, plainCsrEntries: () => number): number | null {
  // A conv2d weight [out, in/groups, kh, kw] is encoded as the matrix [out, in/groups·kh·kw]: one row per filter.
  const rows = shape[0] as number;
  const size = shape.reduce((a, b) => a * b, 1);
  let count: number;
  if (entry.kind === 'csr') {
    if (entry.indices === 'gaps') {
      streamTensor(`${name}.csr.gaps`, entry.symbols as number, entry.gapBits as number, entry.huffman.includes('gaps'), need, `the gap symbols of "${name}"`);
      count = entry.entries as number;
    } else {
      count = plainCsrEntries();
    }
  } else {
    count = size;
  }
  if (entry.values === 'f32') {
    need(entry.kind === 'csr' ? `${name}.csr.values` : name, 'F32', [count], `the values of "${name}"`);
  } else if (entry.values === 'int8') {
    need(`${name}.int8`, 'I8', entry.kind === 'csr' ? [count] : shape, `the int8 codes of "${name}"`);
    need(`${name}.scales`, 'F32', [rows], `the per-row scales of "${name}"`);
  } else {
    const bits = entry.bits as number;
    const codebook = need(`${name}.codebook`, ['F32', 'F16'], null, `the codebook of "${name}"`);
    if (codebook.length !== 1 || (codebook[0] as number) < 1 || (codebook[0] as number) > 2 ** bits) {
      throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}.codebook" has shape ${formatShape(codebook)}; ${bits}-bit codes need [K] with 1 ≤ K ≤ ${2 ** bits}`);
    }
    streamTensor(`${name}.codes`, count, bits, entry.huffman.includes('codes'), need, `the codebook indices of "${name}"`);
  }
  return entry.kind === 'csr' ? count : null;
}

/** A symbol stream: exactly packed fixed-width, or Huffman-coded bytes of any length with a 2^bits length table. */
function streamTensor(name: string, count: number, bits: number, huffman: boolean, need: NeedTensor, why: string): void {
  if (!huffman) {
    need(name, 'U8', [packedBytes(count, bits)], `${why} (${count} values of ${bits} bits)`);
    return;
  }
  const stream = need(name, 'U8', null, `${why} (Huffman-coded)`);
  if (stream.length !== 1) throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}" has shape ${formatShape(stream)}; it must be 1-D`);
  need(`${name}.lengths`, 'U8', [2 ** bits], `the Huffman code lengths of ${why}`);
}
