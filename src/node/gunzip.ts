/**
 * Gunzipping IDX files without trusting them: a small gzip file can inflate to gigabytes (a decompression
 * bomb), so the output is capped by what the file's own IDX header declares, and the header is read first
 * from a bounded prefix of the stream.
 *
 *   1. Inflate only a prefix of the compressed bytes (64 B, then 1 KiB, then 16 KiB if needed; zlib's
 *      Z_SYNC_FLUSH returns what a truncated stream gives) until the IDX header is complete. Deflate expands
 *      at most ~1032:1, so this costs at most ~17 MB whatever the file holds.
 *   2. Parse the header's dimensions: the whole content is header + product(dims) bytes, which must be within
 *      `maxDataBytes`; a header that declares more is refused before inflating anything else.
 *   3. Inflate the whole stream with zlib's `maxOutputLength` set to exactly that size: a stream that holds
 *      more than its header declares is refused the moment it passes the declared size.
 *
 * Peak memory: the compressed file plus the declared content size.
 */
import { constants, gunzipSync } from 'node:zlib';
import { DataFormatError } from '../errors.ts';

/** Compressed prefix lengths tried, in turn, to reach the IDX header. */
const PREFIX_STEPS = [64, 1024, 16384];
/** The longest IDX header: 4 bytes of magic, type and rank, then 4 bytes per dimension (at most 4). */
const MAX_IDX_HEADER_BYTES = 4 + 4 * 4;

/** True if `bytes` starts with the gzip magic number 0x1f 0x8b (RFC 1952), whatever the file is called. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzips an IDX file's bytes, capped by the size its header declares and by `maxDataBytes`.
 * Throws DataFormatError naming `name` for corrupt gzip data, a declared size over the limit, or a stream that
 * inflates to more than it declares.
 */
export function gunzipIdx(bytes: Uint8Array, name: string, maxDataBytes: number): Uint8Array {
  const header = inflatePrefix(bytes, name);
  const declared = declaredIdxBytes(header);
  if (declared === null) return header; // not a valid IDX header: parseIdx reports exactly what is wrong
  if (declared > maxDataBytes) {
    throw new DataFormatError(`${name}: its IDX header declares ${declared} bytes of content, over the limit of ${maxDataBytes}; refused before decompressing`);
  }
  try {
    return plain(gunzipSync(bytes, { maxOutputLength: Math.max(declared, 1) }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFormatError(`${name}: the gzip data inflates to more than the ${declared} bytes its IDX header declares; refused`);
    }
    throw corrupt(name, error);
  }
}

/** The first bytes of the content, enough for any IDX header if the stream has them. */
function inflatePrefix(bytes: Uint8Array, name: string): Uint8Array {
  let output: Uint8Array = new Uint8Array(0);
  for (const step of PREFIX_STEPS) {
    try {
      output = plain(gunzipSync(bytes.subarray(0, step), { finishFlush: constants.Z_SYNC_FLUSH }));
    } catch (error) {
      throw corrupt(name, error);
    }
    if (output.length >= MAX_IDX_HEADER_BYTES || step >= bytes.length) return output;
  }
  if (output.length >= 4) return output;
  throw new DataFormatError(`${name}: the first ${PREFIX_STEPS[PREFIX_STEPS.length - 1]} bytes of gzip data hold no IDX header (${output.length} bytes of content)`);
}

/** Header plus element count from an IDX header, or null if the header is incomplete or not IDX. */
function declaredIdxBytes(header: Uint8Array): number | null {
  if (header.length < 4 || header[0] !== 0 || header[1] !== 0 || header[2] !== 0x08) return null; // unsigned bytes only
  const rank = header[3] as number;
  if (rank < 1 || rank > 4 || header.length < 4 + 4 * rank) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  let count = 1;
  for (let i = 0; i < rank; i++) count *= view.getUint32(4 + 4 * i, false);
  // At most (2^32)^4 = 2^128: inexact past 2^53, but never smaller than the true count, so the limit holds.
  return 4 + 4 * rank + count;
}

function corrupt(name: string, error: unknown): DataFormatError {
  // zlib reports "incorrect header check", "unexpected end of file", ... with a Z_* code.
  return new DataFormatError(`${name}: corrupt gzip data: ${error instanceof Error ? error.message : String(error)}`);
}

/** A plain Uint8Array view, so the browser-safe parsers never see a Node Buffer. */
function plain(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
