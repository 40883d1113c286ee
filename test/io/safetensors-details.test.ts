/**
 * The safetensors reader's refusals in detail: each check's exact message (the numbers in it are where a
 * user looks first), every limit at its edge, and the tensor order when offsets tie. safetensors.test.ts
 * checks the codes; these are the cases `npm run mutate -- io` showed nothing was watching.
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { decodeSafetensors, encodeSafetensors, readSafetensorsHeader, type SafetensorsLimits } from '../../src/io/safetensors.ts';
import { packFile } from '../fixtures/model-files.ts';

function refusal(run: () => unknown): { code: string | undefined; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return { code: (error as ModelFormatError).code, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

/** A file from a header object (JSON-encoded as is) and `dataBytes` bytes of data. */
const file = (header: unknown, dataBytes = 0): Uint8Array => packFile(JSON.stringify(header), new Uint8Array(dataBytes));
const f32 = (begin: number, end: number, shape: number[] = [(end - begin) / 4]): Record<string, unknown> => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
const decode = (bytes: Uint8Array, limits: SafetensorsLimits = {}): { code: string | undefined; message: string } => refusal(() => decodeSafetensors(bytes, limits));

describe('safetensors reader: the length prefix and the header text', () => {
  const good = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }]]));

  it('what was given and the file size', () => {
    expect(refusal(() => decodeSafetensors(good.buffer as unknown as Uint8Array))).toEqual({ code: 'E_MODEL_TRUNCATED', message: 'safetensors: expected a Uint8Array, got ArrayBuffer' });
    expect(refusal(() => readSafetensorsHeader(good, { fileSize: good.length - 1 }))).toEqual({
      code: 'E_MODEL_TRUNCATED', message: `safetensors: fileSize ${good.length - 1} is smaller than the ${good.length} bytes given`,
    });
    expect(refusal(() => readSafetensorsHeader(good, { fileSize: good.length + 0.5 })).message).toMatch(/fileSize .* is smaller than/);
    expect(refusal(() => readSafetensorsHeader(good.subarray(0, 5), { fileSize: 100 }))).toEqual({
      code: 'E_MODEL_TRUNCATED', message: 'safetensors: file is 100 bytes, too short for the 8-byte header length',
    });
    expect(decode(good.subarray(0, 7))).toEqual({ code: 'E_MODEL_TRUNCATED', message: 'safetensors: file is 7 bytes, too short for the 8-byte header length' });
    // Exactly 8 bytes is long enough for the prefix; its header length 0 is the next problem.
    expect(decode(new Uint8Array(8))).toEqual({ code: 'E_HEADER_JSON', message: 'safetensors: header length is 0; a header must be a JSON object' });
    const prefixOnly = good.subarray(0, 20);
    const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
    expect(refusal(() => readSafetensorsHeader(prefixOnly, { fileSize: good.length }))).toEqual({
      code: 'E_MODEL_TRUNCATED', message: `safetensors: header length ${headerLength} needs ${8 + headerLength} bytes but only 20 were given`,
    });
  });

  it('the file and header limits: the limit itself is allowed, one more byte is not', () => {
    expect(decodeSafetensors(good, { maxFileBytes: good.length }).tensors.size).toBe(1);
    expect(decode(good, { maxFileBytes: good.length - 1 })).toEqual({ code: 'E_FILE_TOO_LARGE', message: `safetensors: file is ${good.length} bytes, over the limit of ${good.length - 1}` });
    const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
    expect(decodeSafetensors(good, { maxHeaderBytes: headerLength }).tensors.size).toBe(1);
    expect(decode(good, { maxHeaderBytes: headerLength - 1 })).toEqual({
      code: 'E_HEADER_TOO_LARGE', message: `safetensors: header length ${headerLength} (bytes 0-7) is over the limit of ${headerLength - 1}`,
    });
  });

  it('the first header byte, its encoding and its JSON', () => {
    const withHeaderBytes = (header: Uint8Array): Uint8Array => {
      const bytes = new Uint8Array(8 + header.length);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
      bytes.set(header, 8);
      return bytes;
    };
    expect(decode(withHeaderBytes(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])))).toEqual({ code: 'E_HEADER_JSON', message: 'safetensors: header must start with "{" (byte 8), found a byte-order mark' });
    expect(decode(withHeaderBytes(Uint8Array.from([0x20, 0x7b, 0x7d])))).toEqual({ code: 'E_HEADER_JSON', message: 'safetensors: header must start with "{" (byte 8), found byte 0x20' });
    expect(decode(withHeaderBytes(Uint8Array.from([0x0a, 0x7b, 0x7d])))).toMatchObject({ message: expect.stringContaining('found byte 0x0a') });
    expect(decode(withHeaderBytes(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x7d])))).toEqual({ code: 'E_HEADER_JSON', message: 'safetensors: header (bytes 8-12) is not valid UTF-8' });
    expect(decode(withHeaderBytes(new TextEncoder().encode('{"a":')))).toMatchObject({ code: 'E_HEADER_JSON', message: expect.stringMatching(/^header: invalid JSON at character 5/) });
  });
});

describe('safetensors reader: the tensor table', () => {
  it('each malformed entry, with what is wrong', () => {
    const cases: [unknown, string, string][] = [
      [{ w: { ...f32(0, 4), extra: 1 } }, 'E_HEADER_SCHEMA', 'safetensors: tensor "w" has an unknown field "extra" (allowed: dtype, shape, data_offsets)'],
      [{ w: { ...f32(0, 4), dtype: 'BF16' } }, 'E_BAD_DTYPE', 'safetensors: tensor "w" has unsupported dtype "BF16" (supported: F64, F32, I32, U16, F16, U8, I8)'],
      [{ w: { ...f32(0, 4), dtype: 16 } }, 'E_BAD_DTYPE', 'safetensors: tensor "w" has unsupported dtype a number (supported: F64, F32, I32, U16, F16, U8, I8)'],
      [{ w: { ...f32(0, 4), dtype: null } }, 'E_BAD_DTYPE', 'safetensors: tensor "w" has unsupported dtype null (supported: F64, F32, I32, U16, F16, U8, I8)'],
      [{ w: { ...f32(0, 4), shape: '1' } }, 'E_BAD_SHAPE', 'safetensors: tensor "w" has a shape that is not an array (a string)'],
      [{ w: { ...f32(0, 4), shape: null } }, 'E_BAD_SHAPE', 'safetensors: tensor "w" has a shape that is not an array (null)'],
      [{ w: { dtype: 'F64', shape: [2 ** 50], data_offsets: [0, 8] } }, 'E_BAD_SHAPE', `safetensors: tensor "w" has shape [${2 ** 50}], whose byte count overflows`],
      [{ w: { ...f32(0, 4), data_offsets: 'x' } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" needs data_offsets [begin, end], got "x"'],
      [{ w: { ...f32(0, 4), data_offsets: null } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" needs data_offsets [begin, end], got null'],
      [{ w: { ...f32(0, 4), data_offsets: [0] } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" needs data_offsets [begin, end], got [0]'],
      [{ w: { ...f32(0, 4), data_offsets: [-1, 4] } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" has data_offsets [-1,4]; both must be non-negative integers'],
      [{ w: { ...f32(0, 4), data_offsets: [0, 4.0] } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" has data_offsets [0,4.0]; both must be non-negative integers'],
      [{ w: { ...f32(0, 4), shape: [2, 2] } }, 'E_BAD_OFFSETS', 'safetensors: tensor "w" has data_offsets [0, 4] (4 bytes) but F32 [2, 2] needs 16 bytes'],
    ];
    for (const [header, code, message] of cases) {
      // JSON.stringify writes 4.0 as 4: spell that one out by hand.
      const text = JSON.stringify(header).replace('"data_offsets":[0,4]}', message.includes('[0,4.0];') ? '"data_offsets":[0,4.0]}' : '"data_offsets":[0,4]}');
      expect(decode(packFile(text, new Uint8Array(4))), message).toEqual({ code, message });
    }
  });

  it('gaps, overlaps, truncation and trailing bytes name the tensors and the offsets', () => {
    expect(decode(file({ a: f32(4, 8) }, 8))).toEqual({ code: 'E_BAD_OFFSETS', message: 'safetensors: gap of 4 bytes before tensor "a" (data_offsets [4, 8]), after the start of the data section' });
    expect(decode(file({ a: f32(0, 4), b: f32(8, 12) }, 12))).toEqual({ code: 'E_BAD_OFFSETS', message: 'safetensors: gap of 4 bytes before tensor "b" (data_offsets [8, 12]), after tensor "a"' });
    expect(decode(file({ a: f32(0, 8), b: f32(4, 8) }, 8)).message).toBe('safetensors: tensor "b" (data_offsets [4, 8]) overlaps tensor "a", which ends at 8');
    const truncated = file({ a: f32(0, 8) }, 4);
    const dataStart = truncated.length - 4;
    expect(decode(truncated)).toEqual({ code: 'E_MODEL_TRUNCATED', message: `safetensors: the tensors need 8 data bytes (up to file offset ${dataStart + 8}) but the file has only 4 after the header` });
    const trailing = file({ a: f32(0, 4) }, 7);
    expect(decode(trailing)).toEqual({
      code: 'E_TRAILING_DATA', message: `safetensors: 3 bytes follow the last tensor (from file offset ${trailing.length - 3}); a file must end where its data ends`,
    });
  });

  it('tensors come back in data order; equal offsets keep header order (empty tensors first)', () => {
    const bytes = file({ big: f32(0, 8), z: f32(0, 0, [0]), a: f32(0, 0, [0]), next: f32(8, 12) }, 12);
    expect([...decodeSafetensors(bytes).tensors.keys()]).toEqual(['z', 'a', 'big', 'next']);
    expect(readSafetensorsHeader(bytes).tensors.map((t) => t.name)).toEqual(['z', 'a', 'big', 'next']);
  });
});
