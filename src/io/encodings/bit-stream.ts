/**
 * Bit streams for the compact model-file encodings: bits are packed least-significant first within each byte
 * (byte 0 holds bits 0–7 of the stream), as in DEFLATE. A fixed-width field of `bits` bits is written low
 * bit first. Readers check every read against the stream's length and insist that the bits after the last
 * field, up to the byte boundary, are zero, so each sequence of fields has exactly one valid stream (and a
 * save → load → save round trip gives identical bytes).
 */

import { ModelFormatError } from '../../errors.ts';

/** Appends bits to a growing byte array. */
export class BitWriter {
  private bytes = new Uint8Array(64);
  private bitLength = 0;

  /** Appends the low `count` (0…24) bits of `value`, lowest first. */
  write(value: number, count: number): void {
    for (let b = 0; b < count; b++) this.writeBit((value >>> b) & 1);
  }

  /** Appends one bit. */
  writeBit(bit: number): void {
    const byte = this.bitLength >>> 3;
    if (byte === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    if (bit !== 0) this.bytes[byte]! |= 1 << (this.bitLength & 7);
    this.bitLength++;
  }

  /** The stream so far, padded with zero bits to whole bytes (a copy). */
  finish(): Uint8Array {
    return this.bytes.slice(0, Math.ceil(this.bitLength / 8));
  }
}

/** Reads bits from a byte array; every failure is a ModelFormatError naming `what`. */
export class BitReader {
  private position = 0;

  constructor(private readonly bytes: Uint8Array, private readonly what: string) {}

  /** Reads one bit; E_BAD_ENCODING (truncated) past the end. */
  readBit(): number {
    if (this.position >= this.bytes.length * 8) {
      throw new ModelFormatError('E_BAD_ENCODING', `${this.what}: the bit stream is truncated (${this.bytes.length} bytes end before the last value)`);
    }
    const bit = ((this.bytes[this.position >>> 3] as number) >>> (this.position & 7)) & 1;
    this.position++;
    return bit;
  }

  /** Reads a `count`-bit field, lowest bit first. */
  read(count: number): number {
    let value = 0;
    for (let b = 0; b < count; b++) value |= this.readBit() << b;
    return value >>> 0;
  }

  /** Checks that only zero padding (less than one byte of it) follows the last field read. */
  finish(): void {
    const used = Math.ceil(this.position / 8);
    if (used < this.bytes.length) {
      throw new ModelFormatError('E_BAD_ENCODING', `${this.what}: ${this.bytes.length - used} bytes follow the last value of the bit stream`);
    }
    while (this.position < this.bytes.length * 8) {
      if (this.readBit() !== 0) throw new ModelFormatError('E_BAD_ENCODING', `${this.what}: the padding bits after the last value are not zero`);
    }
  }
}

/** Bytes that `count` fields of `bits` bits take. */
export function packedBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/** Packs `values` (each below 2^bits) as `bits`-bit fields. */
export function packFixed(values: ArrayLike<number>, bits: number): Uint8Array {
  const writer = new BitWriter();
  for (let i = 0; i < values.length; i++) writer.write(values[i] as number, bits);
  return writer.finish();
}

/**
 * Reads exactly `count` fields of `bits` bits from `bytes`, which must be exactly packedBytes(count, bits)
 * long with zero padding. ModelFormatError('E_BAD_ENCODING') naming `what` otherwise.
 */
export function unpackFixed(bytes: Uint8Array, count: number, bits: number, what: string): Uint8Array {
  const expected = packedBytes(count, bits);
  if (bytes.length !== expected) {
    throw new ModelFormatError('E_BAD_ENCODING', `${what}: ${count} values of ${bits} bits take ${expected} bytes, but the stream has ${bytes.length}`);
  }
  const reader = new BitReader(bytes, what);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = reader.read(bits);
  reader.finish();
  return out;
}
