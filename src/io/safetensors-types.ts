/**
 * The safetensors container's vocabulary, shared by the reader (safetensors-reader.ts) and the writer
 * (safetensors-writer.ts): element types, the shapes of a tensor and of a parsed header, and the limits that
 * bound what a reader spends on an untrusted file. The layout itself is described in safetensors.ts.
 */

/**
 * The element types this library reads and writes (a subset of what safetensors defines). F16 (IEEE half) is
 * held as its raw bit patterns, a Uint16Array (JavaScript has no half-float array on Node 20); the model file
 * widens them to float32 (src/tensor/float16.ts).
 */
export type SafetensorsDType = 'F64' | 'F32' | 'I32' | 'U16' | 'F16' | 'U8' | 'I8';
export type SafetensorsData = Float64Array | Float32Array | Int32Array | Uint16Array | Uint8Array | Int8Array;

export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = ['F64', 'F32', 'I32', 'U16', 'F16', 'U8', 'I8'];

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<SafetensorsDType, number>> = { F64: 8, F32: 4, I32: 4, U16: 2, F16: 2, U8: 1, I8: 1 };

/** What importers also read from other frameworks' files: bfloat16, 64-bit integers, booleans. */
export type SafetensorsImportDType = SafetensorsDType | 'BF16' | 'I64' | 'BOOL';

/** Bytes per element of every dtype an importer reads (decodeSafetensorsRaw). */
export const IMPORT_BYTES_PER_ELEMENT: Readonly<Record<SafetensorsImportDType, number>> = { ...BYTES_PER_ELEMENT, BF16: 2, I64: 8, BOOL: 1 };

/** A tensor as stored in a file: element type, row-major shape and the flat data. */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** One entry of the header's tensor table, without the data. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** [begin, end) relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** The parsed and validated header of a file. */
export interface SafetensorsHeader {
  /** N, the header's length in bytes (padding included). */
  readonly headerLength: number;
  /** Where the data section starts in the file: 8 + N. */
  readonly dataStart: number;
  /** The total file size the header was checked against. */
  readonly fileSize: number;
  /** `__metadata__`, or an empty map. A Map, so no key (not even `__proto__`) can reach a prototype. */
  readonly metadata: Map<string, string>;
  /** The tensor table in data order (sorted by begin offset). */
  readonly tensors: readonly SafetensorsTensorInfo[];
}

/** What `decodeSafetensors` returns: the metadata strings and every tensor by name. */
export interface DecodedSafetensors {
  readonly metadata: Map<string, string>;
  /** Tensors in data order. Their data may share memory with the bytes passed in; copy it if those change. */
  readonly tensors: Map<string, SafetensorsTensor>;
}

/** Limits that bound the work and memory a reader spends on an untrusted file. */
export interface SafetensorsLimits {
  /** Largest header (N) accepted, in bytes. Default 16 MiB (the reference reader allows 100 MB). */
  readonly maxHeaderBytes?: number;
  /** Largest file accepted, in bytes. Default 1 GiB. */
  readonly maxFileBytes?: number;
  /** Largest tensor rank accepted. Default 4. */
  readonly maxRank?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_RANK = 4;

/** The header key that holds string metadata instead of a tensor. */
export const METADATA_KEY = '__metadata__';
/** Typed-array views assume the host's byte order is little-endian, like the file's; others copy via DataView. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The header is padded with spaces (0x20) to a multiple of 8 bytes. */
export const HEADER_PADDING_BYTE = 0x20;
