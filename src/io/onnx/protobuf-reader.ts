/**
 * A minimal, strict Protocol Buffers *reader*: the other half of protobuf.ts (which describes the wire
 * format), for reading ONNX files that came from elsewhere. Browser-safe; no schema, no reflection: the
 * caller asks for the fields it knows by number and declares the wire type each must have.
 *
 * Every byte comes from an untrusted file, so every step is checked and every failure is a ModelFormatError
 * with code E_ONNX_PROTOBUF that says where (the message path and the byte offset):
 *   - a varint longer than 10 bytes, or whose 10th byte sets bits beyond 64;
 *   - a tag with field number 0 or above 2^29 − 1, or wire type 3, 4 (groups, deprecated), 6 or 7 (undefined);
 *   - a length (LEN) or fixed-width value (I32, I64) that runs past the end of its message;
 *   - a known field with the wrong wire type (e.g. a string written as a varint);
 *   - a string field that is not valid UTF-8.
 * A scalar field that appears twice follows protobuf's rule (the last one wins), as other readers do.
 * Unknown fields are skipped after their wire format is checked, as protobuf prescribes.
 * Nothing is copied: LEN payloads are subarrays of the input.
 */
import { ModelFormatError } from '../../errors.ts';
import { WireType } from './protobuf.ts';

/** One field occurrence: its number, wire type, and value (varint as bigint; LEN/I32/I64 as raw bytes). */
export interface ProtoField {
  readonly number: number;
  readonly wireType: WireType;
  /** VARINT: the 64-bit value (unsigned). */
  readonly varint: bigint;
  /** LEN: the payload; I32 / I64: the 4 / 8 little-endian bytes. Empty for VARINT. */
  readonly bytes: Uint8Array;
  /** Byte offset of the field's tag in the outermost buffer, for messages. */
  readonly offset: number;
}

/** A decoded message: its fields by number, in order of appearance. */
export class ProtoMessage {
  constructor(
    /** Where this message sits, for error messages: e.g. "ModelProto.graph.node[3]". */
    readonly path: string,
    private readonly fields: ReadonlyMap<number, readonly ProtoField[]>,
  ) {}

  /** Every occurrence of field `number`, each checked to have `wireType` (packed repeated scalars come as LEN). */
  all(number: number, wireType: WireType, name: string): readonly ProtoField[] {
    const list = this.fields.get(number) ?? [];
    for (const field of list) {
      if (field.wireType !== wireType) {
        throw protobufError(`${this.path}.${name} (field ${number}) has wire type ${field.wireType}, expected ${wireType}`, field.offset);
      }
    }
    return list;
  }

  /** The last occurrence of field `number` (protobuf: the last one wins), or undefined. */
  last(number: number, wireType: WireType, name: string): ProtoField | undefined {
    const list = this.all(number, wireType, name);
    return list[list.length - 1];
  }

  /** A nested message field (LEN), decoded; undefined when absent. */
  message(number: number, name: string): ProtoMessage | undefined {
    const field = this.last(number, WireType.LEN, name);
    return field === undefined ? undefined : decodeMessage(field.bytes, `${this.path}.${name}`, field.offset);
  }

  /** Every occurrence of a repeated message field, decoded. */
  messages(number: number, name: string): ProtoMessage[] {
    return this.all(number, WireType.LEN, name).map((field, i) => decodeMessage(field.bytes, `${this.path}.${name}[${i}]`, field.offset));
  }

  /** A string field (UTF-8, strictly decoded); `fallback` when absent. */
  string(number: number, name: string, fallback = ''): string {
    const field = this.last(number, WireType.LEN, name);
    return field === undefined ? fallback : decodeUtf8(field.bytes, `${this.path}.${name}`, field.offset);
  }

  /** Every occurrence of a repeated string field. */
  strings(number: number, name: string): string[] {
    return this.all(number, WireType.LEN, name).map((field, i) => decodeUtf8(field.bytes, `${this.path}.${name}[${i}]`, field.offset));
  }

  /** A varint field as a signed 64-bit integer (int64/int32/enum: two's complement); `fallback` when absent. */
  int64(number: number, name: string, fallback = 0n): bigint {
    const field = this.last(number, WireType.VARINT, name);
    return field === undefined ? fallback : BigInt.asIntN(64, field.varint);
  }

  /** A repeated int64 field, accepting both encodings (one varint per occurrence, or packed in LEN fields). */
  int64s(number: number, name: string): bigint[] {
    const out: bigint[] = [];
    for (const field of this.fields.get(number) ?? []) {
      if (field.wireType === WireType.VARINT) out.push(BigInt.asIntN(64, field.varint));
      else if (field.wireType === WireType.LEN) {
        const reader = new ByteReader(field.bytes, `${this.path}.${name}`, field.offset);
        while (!reader.done) out.push(BigInt.asIntN(64, reader.varint()));
      } else throw protobufError(`${this.path}.${name} (field ${number}) has wire type ${field.wireType}, expected a varint or packed varints`, field.offset);
    }
    return out;
  }

  /** A float field (I32); `fallback` when absent. */
  float(number: number, name: string, fallback: number): number {
    const field = this.last(number, WireType.I32, name);
    return field === undefined ? fallback : new DataView(field.bytes.buffer, field.bytes.byteOffset, 4).getFloat32(0, true);
  }

  /** Every occurrence of field `number`, whatever its wire type (for fields with two valid encodings). */
  raw(number: number): readonly ProtoField[] {
    return this.fields.get(number) ?? [];
  }

  /** True when field `number` occurs at all. */
  has(number: number): boolean {
    return this.fields.has(number);
  }

  /** The numbers of the fields present. */
  numbers(): number[] {
    return [...this.fields.keys()];
  }
}

/** Decodes one message's fields; `offset` is where `bytes` starts in the outermost buffer (for messages). */
export function decodeMessage(bytes: Uint8Array, path: string, offset = 0): ProtoMessage {
  const reader = new ByteReader(bytes, path, offset);
  const fields = new Map<number, ProtoField[]>();
  while (!reader.done) {
    const at = reader.absolute;
    const tag = reader.varint();
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (number === 0 || tag >> 3n > 536870911n) throw protobufError(`${path}: invalid field number ${tag >> 3n}`, at);
    let field: ProtoField;
    switch (wireType) {
      case WireType.VARINT:
        field = { number, wireType, varint: reader.varint(), bytes: EMPTY, offset: at };
        break;
      case WireType.I64:
      case WireType.I32: {
        const size = wireType === WireType.I64 ? 8 : 4;
        field = { number, wireType, varint: 0n, bytes: reader.take(size, `field ${number}`), offset: at };
        break;
      }
      case WireType.LEN: {
        const length = reader.varint();
        if (length > BigInt(reader.remaining)) throw protobufError(`${path}: field ${number} declares ${length} bytes but only ${reader.remaining} remain`, at);
        field = { number, wireType, varint: 0n, bytes: reader.take(Number(length), `field ${number}`), offset: at };
        break;
      }
      default:
        throw protobufError(`${path}: field ${number} has wire type ${wireType} (${wireType === 3 || wireType === 4 ? 'groups are not supported' : 'not a protobuf wire type'})`, at);
    }
    const list = fields.get(number);
    if (list === undefined) fields.set(number, [field]);
    else list.push(field);
  }
  return new ProtoMessage(path, fields);
}

const EMPTY = new Uint8Array(0);

/** Sequential reads over one message's bytes, each bounds-checked. */
class ByteReader {
  private position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly path: string,
    private readonly base: number,
  ) {}

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  /** The current position in the outermost buffer. */
  get absolute(): number {
    return this.base + this.position;
  }

  /** A base-128 varint of at most 10 bytes that fits in 64 bits. */
  varint(): bigint {
    const start = this.absolute;
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.bytes.length) throw protobufError(`${this.path}: truncated varint`, start);
      const byte = this.bytes[this.position++]!;
      if (i === 9 && byte > 1) throw protobufError(`${this.path}: varint overflows 64 bits`, start);
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    throw protobufError(`${this.path}: varint longer than 10 bytes`, start);
  }

  take(count: number, what: string): Uint8Array {
    if (count > this.remaining) throw protobufError(`${this.path}: ${what} needs ${count} bytes but only ${this.remaining} remain`, this.absolute);
    const out = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return out;
  }
}

/** Strict UTF-8 (no lone surrogates, no overlong forms), as protobuf requires of string fields. */
function decodeUtf8(bytes: Uint8Array, path: string, offset: number): string {
  let text = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    let code: number;
    let size: number;
    if (b0 < 0x80) [code, size] = [b0, 1];
    else if (b0 >= 0xc2 && b0 < 0xe0) [code, size] = [b0 & 0x1f, 2];
    else if (b0 >= 0xe0 && b0 < 0xf0) [code, size] = [b0 & 0x0f, 3];
    else if (b0 >= 0xf0 && b0 < 0xf5) [code, size] = [b0 & 0x07, 4];
    else throw protobufError(`${path}: a string is not valid UTF-8 (byte 0x${b0.toString(16)})`, offset);
    if (i + size > bytes.length) throw protobufError(`${path}: a string ends inside a UTF-8 character`, offset);
    for (let k = 1; k < size; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) throw protobufError(`${path}: a string is not valid UTF-8`, offset);
      code = (code << 6) | (b & 0x3f);
    }
    const minimum = [0, 0, 0x80, 0x800, 0x10000][size]!;
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw protobufError(`${path}: a string is not valid UTF-8`, offset);
    text += String.fromCodePoint(code);
    i += size;
  }
  return text;
}

/** The reader's error: ModelFormatError E_ONNX_PROTOBUF, naming the byte offset. */
export function protobufError(message: string, offset: number): ModelFormatError {
  return new ModelFormatError('E_ONNX_PROTOBUF', `ONNX: ${message} (at byte ${offset})`);
}
