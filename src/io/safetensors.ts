/**
 * A reader and writer for the safetensors container (Hugging Face), working on bytes only, so it runs in
 * browsers and in Node alike.
 *
 * Layout of a file:
 *
 *     [0, 8)          N: unsigned 64-bit little-endian integer, the byte length of the header
 *     [8, 8+N)        header: UTF-8 JSON object, right-padded with spaces (0x20)
 *     [8+N, EOF)      data: the raw little-endian bytes of every tensor, back to back
 *
 *     header = {
 *       "__metadata__": { "<key>": "<string value>", ... },            (optional; string -> string only)
 *       "<tensor name>": { "dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end] },
 *       ...
 *     }
 *
 * Offsets are relative to the start of the data section; `end` is one past the last byte. Shapes are
 * row-major; `[]` is a scalar and a 0 anywhere in the shape is an empty tensor.
 *
 * The writer is deterministic: the same tensors and metadata always give the same bytes. Metadata keys are
 * sorted; tensors keep the order they were given, except that wider element types come first (F64, then
 * F32/I32, then U16/F16, then U8/I8). Together with a header padded to a multiple of 8, every typed-array view of
 * the data is then aligned (each group ends on a multiple of its element size, which is a multiple of the
 * next group's). The reader returns tensors in data order, so save -> load -> save gives identical bytes.
 * Multi-byte elements are little-endian in the file whatever the host's byte order.
 *
 * The reader treats every file as hostile. Before it creates a single typed array it checks that the header
 * length is sane, that the header is strict UTF-8 JSON with no duplicate keys (JSON.parse would silently keep
 * the last one, a classic parser differential), that every dtype, shape and offset is well formed, that the
 * tensors tile the data section exactly (contiguous from 0, no gaps, no overlaps) and that nothing follows
 * the last tensor. All arithmetic on numbers from the file is checked against Number.MAX_SAFE_INTEGER, so
 * no size declared in the header is trusted until it has been matched against the real file size.
 * Every failure is a ModelFormatError with a stable code; no RangeError or TypeError escapes.
 */

export {
  SAFETENSORS_DTYPES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_RANK,
  type SafetensorsDType,
  type SafetensorsData,
  type SafetensorsTensor,
  type SafetensorsTensorInfo,
  type SafetensorsHeader,
  type DecodedSafetensors,
  type SafetensorsLimits,
} from './safetensors-types.ts';
export { encodeSafetensors } from './safetensors-writer.ts';
export { decodeSafetensors, readSafetensorsHeader } from './safetensors-reader.ts';
