/**
 * Canonical Huffman coding of byte symbols (an alphabet of at most 256), the entropy stage of Deep
 * Compression, written here so it runs in browsers with no dependency.
 *
 * A code is given by one length per symbol (0 = unused, else 1…MAX_HUFFMAN_LENGTH). Codes are assigned
 * canonically, as in DEFLATE (RFC 1951, 3.2.2): shorter codes first, and within a length in symbol order; each
 * code is written most significant bit first into the LSB-first bit stream of bit-stream.ts.
 *
 * A table read from a file is checked before use: every length in range, and the lengths form a complete
 * prefix code (Kraft sum exactly 1). An over-subscribed table is ambiguous; an under-full one leaves bit
 * patterns that decode to nothing. The one exception is a single used symbol, which has length 1 (code 0),
 * as DEFLATE allows. Decoding reads exactly the declared number of symbols, at most MAX_HUFFMAN_LENGTH bits
 * each, so a hostile stream costs at most count·15 bit reads. Cost: encoding O(n + 256 log 256), decoding
 * O(n·15).
 */

import { ModelFormatError } from '../../errors.ts';
import { BitReader, BitWriter } from './bit-stream.ts';

/** The longest code length a table may hold. */
export const MAX_HUFFMAN_LENGTH = 15;

/**
 * Code lengths (≤ MAX_HUFFMAN_LENGTH) of an optimal-or-near prefix code for symbols with these counts: a Huffman
 * tree, and when it is too deep the counts are halved (keeping used symbols at ≥ 1) and the tree rebuilt.
 * Symbols with count 0 get length 0; a single used symbol gets length 1.
 */
export function huffmanLengths(counts: ArrayLike<number>): Uint8Array {
  let weights = Array.from(counts);
  for (;;) {
    const lengths = treeLengths(weights);
    if (lengths.every((l) => l <= MAX_HUFFMAN_LENGTH)) return lengths;
    weights = weights.map((w) => (w === 0 ? 0 : Math.max(1, Math.floor(w / 2))));
  }
}

function treeLengths(weights: readonly number[]): Uint8Array {
  const lengths = new Uint8Array(weights.length);
  const used = weights.flatMap((w, s) => (w > 0 ? [s] : []));
  if (used.length === 1) lengths[used[0]!] = 1;
  if (used.length <= 1) return lengths;
  // Nodes: leaves 0…n−1, then merged nodes; parent links give each leaf's depth. Ties broken by index, so the
  // lengths are deterministic.
  const weight: number[] = used.map((s) => weights[s]!);
  const parent: number[] = used.map(() => -1);
  const queue = used.map((_, i) => i);
  while (queue.length > 1) {
    queue.sort((a, b) => weight[a]! - weight[b]! || a - b);
    const a = queue.shift()!, b = queue.shift()!;
    const node = weight.length;
    weight.push(weight[a]! + weight[b]!);
    parent.push(-1);
    parent[a] = node;
    parent[b] = node;
    queue.push(node);
  }
  used.forEach((symbol, leaf) => {
    let depth = 0;
    for (let n = leaf; parent[n]! >= 0; n = parent[n]!) depth++;
    lengths[symbol] = depth;
  });
  return lengths;
}

/**
 * Checks a code-length table (see the file comment) and returns its canonical decoding tables: how many codes
 * each length has, and the symbols in canonical order. ModelFormatError('E_BAD_HUFFMAN') naming `what`.
 */
export function checkHuffmanTable(lengths: Uint8Array, what: string): { counts: Int32Array; symbols: Int32Array } {
  const counts = new Int32Array(MAX_HUFFMAN_LENGTH + 1);
  for (let s = 0; s < lengths.length; s++) {
    const length = lengths[s] as number;
    if (length > MAX_HUFFMAN_LENGTH) throw new ModelFormatError('E_BAD_HUFFMAN', `${what}: symbol ${s} has code length ${length}; the longest allowed is ${MAX_HUFFMAN_LENGTH}`);
    counts[length]!++;
  }
  counts[0] = 0;
  const used = lengths.length - lengths.filter((l) => l === 0).length;
  const single = used === 1 && lengths.includes(1);
  if (used > 0 && !single) {
    // Kraft sum in units of 2^-15: a complete code sums to exactly 2^15.
    let kraft = 0;
    for (let length = 1; length <= MAX_HUFFMAN_LENGTH; length++) kraft += (counts[length] as number) << (MAX_HUFFMAN_LENGTH - length);
    if (kraft > 1 << MAX_HUFFMAN_LENGTH) throw new ModelFormatError('E_BAD_HUFFMAN', `${what}: the code lengths over-subscribe the code space (not a prefix code)`);
    if (kraft < 1 << MAX_HUFFMAN_LENGTH) throw new ModelFormatError('E_BAD_HUFFMAN', `${what}: the code lengths leave part of the code space unused (an incomplete code)`);
  } else if (used === 1 && !single) {
    throw new ModelFormatError('E_BAD_HUFFMAN', `${what}: a table with one symbol must give it code length 1`);
  }
  const symbols: number[] = [];
  for (let length = 1; length <= MAX_HUFFMAN_LENGTH; length++) for (let s = 0; s < lengths.length; s++) if (lengths[s] === length) symbols.push(s);
  return { counts, symbols: Int32Array.from(symbols) };
}

/** The canonical code of every symbol (bits, most significant first, `lengths[s]` of them). */
function canonicalCodes(lengths: Uint8Array): Int32Array {
  const { counts } = checkHuffmanTable(lengths, 'huffman encoder');
  const next = new Int32Array(MAX_HUFFMAN_LENGTH + 2);
  let code = 0;
  for (let length = 1; length <= MAX_HUFFMAN_LENGTH; length++) {
    code = (code + (counts[length - 1] as number)) << 1;
    next[length] = code;
  }
  const codes = new Int32Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) if ((lengths[s] as number) > 0) codes[s] = next[lengths[s] as number]!++;
  return codes;
}

/** Encodes `symbols` with the code of `lengths` (every symbol must have a length > 0). */
export function encodeHuffman(symbols: ArrayLike<number>, lengths: Uint8Array): Uint8Array {
  const codes = canonicalCodes(lengths);
  const writer = new BitWriter();
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i] as number;
    const length = lengths[s] as number;
    for (let b = length - 1; b >= 0; b--) writer.writeBit(((codes[s] as number) >>> b) & 1);
  }
  return writer.finish();
}

/** Bits that encoding symbols with these counts under `lengths` takes (the table not included). */
export function huffmanBits(counts: ArrayLike<number>, lengths: Uint8Array): number {
  let bits = 0;
  for (let s = 0; s < counts.length; s++) bits += (counts[s] as number) * (lengths[s] as number);
  return bits;
}

/**
 * Decodes exactly `count` symbols from `bytes` with the canonical code of `lengths` (checked first), then
 * checks that only zero padding follows. ModelFormatError E_BAD_HUFFMAN (table) or E_BAD_ENCODING (stream).
 */
export function decodeHuffman(bytes: Uint8Array, lengths: Uint8Array, count: number, what: string): Uint8Array {
  const { counts, symbols } = checkHuffmanTable(lengths, what);
  if (count > 0 && symbols.length === 0) throw new ModelFormatError('E_BAD_HUFFMAN', `${what}: the code table is empty but ${count} symbols are declared`);
  const reader = new BitReader(bytes, what);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // Canonical decoding (as in zlib's puff.c): `first` is the first code of the current length, `index` the
    // position of its symbol in canonical order.
    let code = 0, first = 0, index = 0;
    for (let length = 1; ; length++) {
      if (length > MAX_HUFFMAN_LENGTH) throw new ModelFormatError('E_BAD_ENCODING', `${what}: symbol ${i} matches no code`);
      code |= reader.readBit();
      const n = counts[length] as number;
      if (code - first < n) {
        out[i] = symbols[index + code - first] as number;
        break;
      }
      index += n;
      first = (first + n) << 1;
      code <<= 1;
    }
  }
  reader.finish();
  return out;
}
