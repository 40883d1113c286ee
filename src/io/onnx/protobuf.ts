/**
 * A minimal Protocol Buffers *writer*: just enough of the wire format to serialise an ONNX model.
 * Browser-safe (no Node APIs); no schema, no reflection: the caller writes fields by number.
 *
 * The wire format (https://protobuf.dev/programming-guides/encoding/)
 * ------------------------------------------------------------------
 * A message is a flat sequence of fields. Every field starts with a *tag*, the varint
 * `(fieldNumber << 3) | wireType`, followed by a payload whose layout the wire type gives:
 *
 *   wire type 0  VARINT  int32, int64, uint32, uint64, bool, enum (and sint32/64 after zigzag).
 *                        Base-128: 7 bits per byte, least significant group first, the high bit of a byte
 *                        set when more bytes follow. 0..127 take 1 byte, 128 takes 2 (0x80 0x01).
 *                        A negative int32/int64 is sign-extended to 64 bits, so it always takes 10 bytes.
 *   wire type 1  I64     fixed64, sfixed64, double: 8 bytes little-endian.
 *   wire type 2  LEN     string, bytes, embedded messages and *packed* repeated scalars: a varint byte
 *                        length, then that many bytes. An embedded message is simply its own fields.
 *   wire type 3/4        start/end group (deprecated; never written here).
 *   wire type 5  I32     fixed32, sfixed32, float: 4 bytes little-endian (IEEE 754 for float).
 *
 * Repeated fields are either the same tag written once per element, or (packed, numeric types only)
 * one LEN field whose payload is the elements' payloads back to back. Parsers accept both forms for
 * any repeated numeric field. Fields may come in any order; writing them in field-number order (as
 * here, by convention of the caller) gives the canonical bytes a protobuf library would produce.
 *
 * Field values that equal a proto2 "optional" default are still written when the caller asks; the caller
 * simply does not call the writer for fields it wants absent.
 *
 * Implementation: the writer keeps a list of byte chunks. Small things (tags, varints, short strings) go
 * into a growing scratch buffer; a nested message is appended *by reference* as its own writer, so a
 * megabyte of weights nested four messages deep is copied once, in `finish()`, not once per level.
 */

/** Wire types, as in the protobuf encoding guide. */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  I32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/**
 * Appends the base-128 varint of `value` to `out` (a plain byte list).
 * Accepts a non-negative safe integer, a negative safe integer (encoded as its 64-bit two's complement,
 * ten bytes, as protobuf does for negative int32/int64), or a bigint in [-2^63, 2^64).
 */
export function encodeVarint(value: number | bigint, out: number[]): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
    if (value >= 0) {
      // 53-bit values: peel 7 bits at a time with arithmetic (bit operators would truncate to 32 bits).
      while (value > 127) {
        out.push((value % 128) | 128);
        value = Math.floor(value / 128);
      }
      out.push(value);
      return;
    }
    value = BigInt(value);
  }
  if (value < -(1n << 63n) || value >= 1n << 64n) throw new RangeError(`varint out of 64-bit range: ${value}`);
  let v = BigInt.asUintN(64, value); // two's complement for negatives
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** Builds one protobuf message. Call field methods in the order the fields should appear, then `finish()`. */
export class ProtoWriter {
  /** Finished chunks: either raw bytes or a nested writer whose bytes are appended at `finish()`. */
  private readonly chunks: (Uint8Array | ProtoWriter)[] = [];
  /** Small writes not yet moved into `chunks`. */
  private scratch: number[] = [];
  /** Total byte length of this message so far (chunks + scratch). */
  private size = 0;

  /** The encoded length of the message written so far, in bytes. */
  get length(): number {
    return this.size + this.scratch.length;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  private appendChunk(chunk: Uint8Array | ProtoWriter): void {
    this.flushScratch();
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Writes a tag: the field number and wire type. */
  tag(fieldNumber: number, wireType: WireType): this {
    if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > 536870911 || (fieldNumber >= 19000 && fieldNumber <= 19999)) {
      throw new RangeError(`invalid protobuf field number ${fieldNumber}`);
    }
    encodeVarint(fieldNumber * 8 + wireType, this.scratch);
    return this;
  }

  /** A varint field (wire type 0): uint32/uint64/int32/int64/bool/enum. Negative values take 10 bytes. */
  varint(fieldNumber: number, value: number | bigint): this {
    this.tag(fieldNumber, WireType.VARINT);
    encodeVarint(value, this.scratch);
    return this;
  }

  /** A bool field (a varint 0 or 1). */
  bool(fieldNumber: number, value: boolean): this {
    return this.varint(fieldNumber, value ? 1 : 0);
  }

  /** A float field (wire type 5, fixed32 IEEE 754 little-endian). */
  float(fieldNumber: number, value: number): this {
    this.tag(fieldNumber, WireType.I32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const b of bytes) this.scratch.push(b);
    return this;
  }

  /** A double field (wire type 1, fixed64 IEEE 754 little-endian). */
  double(fieldNumber: number, value: number): this {
    this.tag(fieldNumber, WireType.I64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    for (const b of bytes) this.scratch.push(b);
    return this;
  }

  /**
   * A bytes field (wire type 2). Arrays longer than 64 bytes are kept by reference and copied when
   * `finish()` runs, so the caller must not change them in between.
   */
  bytes(fieldNumber: number, value: Uint8Array): this {
    this.tag(fieldNumber, WireType.LEN);
    encodeVarint(value.length, this.scratch);
    if (value.length <= 64) for (const b of value) this.scratch.push(b);
    else this.appendChunk(value);
    return this;
  }

  /** A string field (wire type 2, UTF-8). */
  string(fieldNumber: number, value: string): this {
    return this.bytes(fieldNumber, utf8Bytes(value));
  }

  /** An embedded message field (wire type 2). `message` is kept by reference: do not write to it afterwards. */
  message(fieldNumber: number, message: ProtoWriter): this {
    this.tag(fieldNumber, WireType.LEN);
    encodeVarint(message.length, this.scratch);
    this.appendChunk(message);
    return this;
  }

  /** A packed repeated varint field (wire type 2 holding varints back to back), e.g. `repeated int64 x = n [packed=true]`. */
  packedVarints(fieldNumber: number, values: readonly (number | bigint)[]): this {
    const payload: number[] = [];
    for (const v of values) encodeVarint(v, payload);
    this.tag(fieldNumber, WireType.LEN);
    encodeVarint(payload.length, this.scratch);
    for (const b of payload) this.scratch.push(b);
    return this;
  }

  /** A packed repeated float field (wire type 2 holding 4-byte little-endian floats). */
  packedFloats(fieldNumber: number, values: ArrayLike<number>): this {
    return this.bytes(fieldNumber, float32LittleEndian(values));
  }

  /** The encoded message as one contiguous byte array. */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.size);
    const offset = this.copyInto(out, 0);
    if (offset !== out.length) throw new Error(`internal: protobuf size mismatch (${offset} != ${out.length})`);
    return out;
  }

  private copyInto(out: Uint8Array, offset: number): number {
    this.flushScratch();
    for (const chunk of this.chunks) {
      if (chunk instanceof ProtoWriter) offset = chunk.copyInto(out, offset);
      else {
        out.set(chunk, offset);
        offset += chunk.length;
      }
    }
    return offset;
  }
}

/** The little-endian IEEE 754 single-precision bytes of `values`, on any host byte order. */
export function float32LittleEndian(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/**
 * UTF-8 bytes of a string. Written out here (not TextEncoder) because the core is type-checked without DOM
 * types; a lone UTF-16 surrogate has no UTF-8 form and is an error rather than a silent U+FFFD.
 */
export function utf8Bytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c >= 0xd800 && c <= 0xdfff) throw new RangeError(`string has a lone UTF-16 surrogate at code unit value 0x${c.toString(16)}`);
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** The varint bytes of a value (convenience for tests and size calculations). */
export function varintBytes(value: number | bigint): Uint8Array {
  const out: number[] = [];
  encodeVarint(value, out);
  return Uint8Array.from(out);
}
