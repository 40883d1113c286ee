/**
 * Mutation fuzzing of the ONNX reader (beside fuzz.test.ts, which fuzzes the model loader). Valid ONNX files —
 * exported by sparsegrad (dense and sparse initializers) and the independent fixtures of make_fixtures.py
 * (MatMul + Add, Flatten, Reshape through a Constant, FLOAT16, DOUBLE, coordinate sparse indices) — are
 * mutated in seeded, repeatable ways: truncation, bit flips, byte overwrites, inserted and deleted bytes, and
 * protobuf-aware edits (a length varint made longer, shorter or huge, a wire type changed, a varint stretched
 * to 10 or 11 bytes, a field duplicated). The property, for every case:
 *
 *   - importModel either returns a record, or throws a ModelFormatError with a code; anything else
 *     (TypeError, RangeError, a plain Error) is a bug;
 *   - an accepted record is a valid model file (serializes and loads back) and answers finite logits on
 *     inputs in [-1, 1] through compiled inference;
 *   - mutations that must break the file (truncation inside the data, an 11-byte varint) are refused;
 *   - every case is fast (no hang, no giant allocation) and Object.prototype stays clean.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { recordLayers } from '../../src/infer/record-layers.ts';
import { importModel } from '../../src/io/import/index.ts';
import { csrToDense, deserializeModel, serializeModel } from '../../src/io/model-file.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { int8WeightsOfRecord } from '../../src/io/onnx/int8-weights.ts';
import { quantizeModel } from '../../src/quantize/index.ts';
import { compileInference } from '../../src/sparse/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { CONV_SPEC, SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';

function exported(seed: number, sparsity: number, sparseInitializers: 'auto' | 'never' | 'always', spec = SMALL_SPEC): Uint8Array {
  const record = sampleRecord(spec, { seed, sparsity });
  const params = new Map([...record.params].map(([n, p]) => [n, p.dense ?? csrToDense(p.csr!)] as const));
  return exportOnnx(record.spec, params, { sparseInitializers });
}

/** An int8 model's export: INT8 codes (sparse where smaller), scales and zero points behind DequantizeLinear. */
function exportedInt8(seed: number, sparsity: number): Uint8Array {
  const model = modelFromRecord(sampleRecord(SMALL_SPEC, { seed, sparsity }));
  const record = deserializeModel(serializeModel(modelToRecord(model, { quantization: quantizeModel(model, { method: 'int8' }) })));
  const params = new Map(modelFromRecord(record).namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
  return exportOnnx(record.spec, params, { int8Weights: int8WeightsOfRecord(record) });
}

const FIXTURES = ['gemm-flatten.onnx', 'matmul-add.onnx', 'gemm-sparse-f16.onnx', 'double-sigmoid.onnx'];
const SEEDS: Record<string, Uint8Array> = {
  dense: exported(1, 0, 'never'),
  sparse: exported(2, 0.7, 'always'),
  mixed: exported(3, 0.5, 'auto'),
  int8: exportedInt8(4, 0.8),
  conv: exported(5, 0.6, 'auto', CONV_SPEC),
  ...Object.fromEntries(FIXTURES.map((name) => [name, new Uint8Array(readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url)))])),
};

/** Where one field sits: its tag, the varint after the tag (value or length), and its payload. */
interface FieldSite { tag: number; wireType: number; lengthAt: number; payloadStart: number; payloadEnd: number }

/**
 * Every field of the message in bytes[start, end), and recursively of the LEN payloads that parse as messages
 * (strings and packed data that do not are left alone). Returns false when [start, end) is not a message.
 */
function fieldSites(bytes: Uint8Array, start: number, end: number, depth: number, out: FieldSite[]): boolean {
  let at = start;
  const varint = (): number | null => {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (at >= end) return null;
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    return null;
  };
  const found: FieldSite[] = [];
  while (at < end) {
    const tag = at;
    const key = varint();
    if (key === null || key < 8) return false;
    const wireType = key % 8;
    const lengthAt = at;
    if (wireType === 0) {
      if (varint() === null) return false;
    } else if (wireType === 1 || wireType === 5) at += wireType === 1 ? 8 : 4;
    else if (wireType === 2) {
      const length = varint();
      if (length === null || at + length > end) return false;
      at += length;
    } else return false;
    if (at > end) return false;
    const payloadEnd = at;
    found.push({ tag, wireType, lengthAt, payloadStart: wireType === 2 ? lengthAt + varintLength(bytes, lengthAt) : lengthAt, payloadEnd });
  }
  for (const site of found) {
    out.push(site);
    if (site.wireType === 2 && depth < 8) {
      const nested: FieldSite[] = [];
      if (fieldSites(bytes, site.payloadStart, site.payloadEnd, depth + 1, nested)) out.push(...nested);
    }
  }
  return true;
}

/** Bytes taken by the varint at `at`. */
function varintLength(bytes: Uint8Array, at: number): number {
  let length = 1;
  while ((bytes[at + length - 1]! & 0x80) !== 0) length++;
  return length;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  while (value > 127) {
    out.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

type Mutation = { name: string; mustFail?: boolean; apply(bytes: Uint8Array, rng: Rng, sites: FieldSite[]): Uint8Array | null };

const splice = (bytes: Uint8Array, at: number, remove: number, insert: number[]): Uint8Array =>
  Uint8Array.from([...bytes.subarray(0, at), ...insert, ...bytes.subarray(at + remove)]);

const MUTATIONS: Mutation[] = [
  { name: 'truncate', apply: (b, rng) => b.subarray(0, rng.int(b.length)) },
  { name: 'flip a bit', apply: (b, rng) => { const c = b.slice(); c[rng.int(c.length)]! ^= 1 << rng.int(8); return c; } },
  { name: 'overwrite a byte', apply: (b, rng) => { const c = b.slice(); c[rng.int(c.length)] = [0, 0xff, 0x80, 0x7f, rng.int(256)][rng.int(5)]!; return c; } },
  { name: 'insert bytes', apply: (b, rng) => splice(b, rng.int(b.length + 1), 0, Array.from({ length: 1 + rng.int(4) }, () => rng.int(256))) },
  { name: 'delete bytes', apply: (b, rng) => splice(b, rng.int(b.length), 1 + rng.int(8), []) },
  {
    name: 'change a length', apply: (b, rng, sites) => {
      const lens = sites.filter((s) => s.wireType === 2);
      if (lens.length === 0) return null;
      const site = lens[rng.int(lens.length)]!;
      const oldLength = site.payloadEnd - site.payloadStart;
      const newLength = [oldLength + 1, Math.max(0, oldLength - 1), 0, 2 ** 31, 2 ** 50][rng.int(5)]!;
      return splice(b, site.lengthAt, site.payloadStart - site.lengthAt, varintBytes(newLength));
    },
  },
  {
    name: 'change a wire type', apply: (b, rng, sites) => {
      if (sites.length === 0) return null;
      const site = sites[rng.int(sites.length)]!;
      const c = b.slice();
      c[site.tag] = (c[site.tag]! & ~7) | [0, 1, 2, 3, 4, 5, 6, 7][rng.int(8)]!;
      return c;
    },
  },
  {
    name: 'stretch a varint to 11 bytes', mustFail: true, apply: (b, rng, sites) => {
      const varints = sites.filter((s) => s.wireType === 0);
      if (varints.length === 0) return null;
      const site = varints[rng.int(varints.length)]!;
      return splice(b, site.lengthAt, 0, new Array<number>(10).fill(0x80));
    },
  },
  {
    name: 'duplicate a field', apply: (b, rng, sites) => {
      if (sites.length === 0) return null;
      const site = sites[rng.int(sites.length)]!;
      return splice(b, site.payloadEnd, 0, Array.from(b.subarray(site.tag, site.payloadEnd)));
    },
  },
];

describe('fuzzing the ONNX reader', () => {
  it('holds for every case: only ModelFormatError, valid records with finite answers, fast, no pollution', () => {
    const rng = new Rng(2024);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    let cases = 0;
    let accepted = 0;
    let slowest = 0;
    for (const [seedName, seed] of Object.entries(SEEDS)) {
      const sites: FieldSite[] = [];
      expect(fieldSites(seed, 0, seed.length, 0, sites), seedName).toBe(true);
      expect(() => importModel(seed, { from: 'onnx' }), seedName).not.toThrow();
      for (let round = 0; round < 180; round++) {
        const mutation = MUTATIONS[round % MUTATIONS.length]!;
        const bytes = mutation.apply(seed, rng, sites);
        if (bytes === null) continue;
        const label = `${seedName} / ${mutation.name} #${round}`;
        cases++;
        const start = performance.now();
        try {
          const record = importModel(bytes, { from: 'onnx' });
          accepted++;
          if (mutation.mustFail === true) failures.push(`${label}: accepted a file that must be refused`);
          const reloaded = deserializeModel(serializeModel(record));
          const model = compileInference(recordLayers(reloaded), { backend: 'js' });
          const x = Float32Array.from({ length: 3 * model.inFeatures }, (_, i) => (i < model.inFeatures ? -1 : i < 2 * model.inFeatures ? 1 : Math.sin(i)));
          const y = model.predict(x, 3);
          if (!y.every(Number.isFinite)) failures.push(`${label}: an accepted file answers ${Array.from(y).find((v) => !Number.isFinite(v))}`);
        } catch (error) {
          if (!(error instanceof ModelFormatError) || !/^E_[A-Z0-9_]+$/.test(error.code)) {
            failures.push(`${label}: threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
          } else codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
        }
        slowest = Math.max(slowest, performance.now() - start);
        if (Object.keys(Object.prototype).length > 0) failures.push(`${label}: Object.prototype was polluted`);
      }
    }
    console.log(`ONNX fuzz: ${cases} cases, ${accepted} accepted, slowest ${slowest.toFixed(1)} ms; refusals: ${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}`);
    expect(failures).toEqual([]);
    expect(cases).toBeGreaterThan(1000);
    expect(slowest).toBeLessThan(2000);
    // The mutations reach the deep checks, not only the protobuf layer.
    expect([...codes.keys()]).toEqual(expect.arrayContaining(['E_ONNX_PROTOBUF', 'E_ONNX_GRAPH', 'E_BAD_SHAPE']));
  });
});
