/**
 * Structure-aware mutation fuzzing of the model loader (ECOSYSTEM.md §4.6).
 *
 * Valid files (dense, CSR, with and without masks and training metadata; compact encodings, F16 biases and
 * codebooks) are mutated in seeded, repeatable ways: truncation, bit flips, byte overwrites, edits of the length
 * prefix, edits of the header JSON at the structural level (duplicate keys, __proto__ keys, evil numbers in
 * shapes and offsets, unknown dtypes, broken metadata, padding and BOM tricks, trailing bytes) and edits of the
 * data (broken CSR structure in the I32 row pointers and in both U16 and I32 column indices, NaN/Inf in F32 and
 * F16 values, bad masks). The property, for every case:
 *
 *   - deserializeModel either returns a record, which must re-serialize and load back to the same numbers,
 *     or throws a ModelFormatError with a code; anything else (TypeError, RangeError, ...) is a bug;
 *   - readModelHeader agrees: it throws only ModelFormatError, and never fails on a file that fully loads;
 *   - mutations that must break the file (truncation, a changed length prefix, duplicates, NaN, ...) are refused;
 *   - each case finishes quickly (no hang, no giant allocation) and Object.prototype stays clean;
 *   - every accepted file answers: the nn forward pass and the compiled model (the 'js' backend) give only
 *     finite outputs on inputs in [-1, 1] (finite weights that could overflow are refused, E_OVERFLOW).
 *
 * Then the same cases go through the file path (loadModelFile must agree with deserializeModel on a sample
 * of them), and so do the files a hostile user would hand over: a FIFO, a directory, symbolic links, device
 * nodes made with mknod in a scratch directory, and a file that another process keeps truncating and
 * rewriting while it is loaded.
 *
 * The random source is the library's seeded Rng, so a failure names a case that reproduces exactly.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { compileModel } from '../../src/index.ts';
import { modelFromRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, readModelHeader, serializeModel, type ModelRecord } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { specShapes } from '../../src/nn/spec-shapes.ts';
import { predict } from '../../src/nn/train.ts';
import { loadModelFile } from '../../src/node/model-io.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { CONV_SPEC, SMALL_SPEC, TINY_SPEC, elementSize, packFile, sampleRecord, splitFile, tensorLocation } from '../fixtures/model-files.ts';
import { float16Record, quantizedRecord, skewedCodebookRecord } from '../fixtures/quantized-files.ts';
import { canMakeDevices, makeDevice, makeFifo, scratchDirectory, unblockFifoLater } from '../support/special-files.ts';

const training = { optimizer: 'sgd', lr: 0.1, schedule: [0.5, 0.75, 0.9], pruning: { method: 'magnitude' } };

/** The same file with every CSR column index tensor stored as I32 (what the writer uses only above 65,536 columns). */
function withI32Indices(bytes: Uint8Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map(file.tensors);
  for (const [name, tensor] of tensors) {
    if (name.endsWith('.csr.indices')) tensors.set(name, { dtype: 'I32', shape: tensor.shape, data: Int32Array.from(tensor.data) });
  }
  return encodeSafetensors(tensors, file.metadata);
}

/** One CSR weight too wide for U16 column indices (1 x 65,537), so the writer itself stores them as I32. */
function wideCsrFile(): Uint8Array {
  const nCols = 65537;
  const columns = [0, 1, 4000, 65535, 65536];
  const spec = { layers: [{ type: 'linear' as const, inFeatures: nCols, outFeatures: 1, bias: false }] };
  const csr = { nRows: 1, nCols, indptr: Int32Array.from([0, columns.length]), indices: Int32Array.from(columns), values: Float32Array.from(columns, (c, i) => (i + 1) * (c % 2 === 0 ? 1 : -1)) };
  return serializeModel({ spec, params: new Map([['layers.0.weight', { shape: [1, nCols], csr }]]) }, { encoding: 'csr' });
}

const SEED_FILES: Record<string, Uint8Array> = {
  dense: serializeModel(sampleRecord(SMALL_SPEC, { seed: 1, training }), { encoding: 'dense' }),
  denseMasked: serializeModel(sampleRecord(SMALL_SPEC, { seed: 2, sparsity: 0.5, masks: true }), { encoding: 'dense' }),
  csr: serializeModel(sampleRecord(SMALL_SPEC, { seed: 3, sparsity: 0.7 }), { encoding: 'csr' }),
  csrMasked: serializeModel(sampleRecord(SMALL_SPEC, { seed: 4, sparsity: 0.6, masks: true, training }), { encoding: 'csr' }),
  tiny: serializeModel(sampleRecord(TINY_SPEC, { seed: 5 }), { encoding: 'dense' }),
  tinyCsrMasked: serializeModel(sampleRecord(TINY_SPEC, { seed: 6, sparsity: 0.5, masks: true }), { encoding: 'csr' }),
  // The writer stores these column indices as U16; an I32 copy is valid too and gets its I32 data mutated.
  csrI32: withI32Indices(serializeModel(sampleRecord(SMALL_SPEC, { seed: 7, sparsity: 0.6, masks: true }), { encoding: 'csr' })),
  wideCsr: wideCsrFile(),
  conv: serializeModel(sampleRecord(CONV_SPEC, { seed: 8, training }), { encoding: 'dense' }),
  convCsrMasked: serializeModel(sampleRecord(CONV_SPEC, { seed: 9, sparsity: 0.5, masks: true }), { encoding: 'csr' }),
  // Compact encodings (issue 14): int8 values with per-row scales, a bit-packed codebook, b-bit relative indices
  // and Huffman-coded streams (skewed codes, so that Huffman pays for its table).
  int8Dense: serializeModel(quantizedRecord(SMALL_SPEC, { seed: 8, method: 'int8' }), { encoding: 'dense' }),
  int8CsrGaps: serializeModel(quantizedRecord(SMALL_SPEC, { seed: 9, method: 'int8', sparsity: 0.6, masks: true }), { encoding: 'csr', indices: 'gaps', gapBits: 3 }),
  codebookDenseMasked: serializeModel(quantizedRecord(SMALL_SPEC, { seed: 10, method: 'codebook', bits: 2, sparsity: 0.5, masks: true }), { encoding: 'dense' }),
  codebookHuffman: serializeModel(skewedCodebookRecord(11), { encoding: 'csr', indices: 'gaps', gapBits: 2, huffman: true }),
  // Biases and codebooks rounded to float16 (the quantizers' float16 option): stored as F16 tensors.
  float16CsrGaps: serializeModel(float16Record(SMALL_SPEC, 12), { encoding: 'csr', indices: 'gaps', huffman: true }),
  float16DenseMasked: serializeModel(float16Record(SMALL_SPEC, 13), { encoding: 'dense' }),
  // Quantized conv2d weights (4-D, encoded as [out, in/groups·kh·kw]): int8 per filter, a codebook with gaps + Huffman.
  convInt8Dense: serializeModel(quantizedRecord(CONV_SPEC, { seed: 14, method: 'int8' }), { encoding: 'dense' }),
  convCodebookCsrGaps: serializeModel(float16Record(CONV_SPEC, 15), { encoding: 'csr', indices: 'gaps', huffman: true }),
};

// ---------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------

interface Tally {
  cases: number;
  accepted: number;
  /** Accepted files whose answers were checked (nn forward and compiled). */
  answered: number;
  /** Every 25th case, kept to replay through the file path: the bytes and the in-memory outcome. */
  sample: { bytes: Uint8Array; label: string; outcome: string }[];
  codes: Map<string, number>;
  slowestMs: number;
  slowestLabel: string;
  failures: string[];
}

const newTally = (): Tally => ({ cases: 0, accepted: 0, answered: 0, sample: [], codes: new Map(), slowestMs: 0, slowestLabel: '', failures: [] });

/** The outcome of loading, as a comparable string: "accepted" or the error code. */
function outcomeOf(record: ModelRecord | undefined, error: unknown): string {
  return record !== undefined ? 'accepted' : error instanceof ModelFormatError ? error.code : `untyped ${String(error)}`;
}

/**
 * Runs an accepted model the two ways a user would, on inputs in [-1, 1] (random, all -1, all 1) and returns
 * why an answer is not finite, or null when every output is a finite number.
 */
function nonFiniteAnswer(record: ModelRecord): string | null {
  const model = modelFromRecord(record);
  const features = specShapes(record.spec).inputFeatures ?? 0;
  const rng = new Rng(features);
  const x = Float32Array.from({ length: 3 * features }, (_, i) => (i < features ? rng.uniform() * 2 - 1 : i < 2 * features ? -1 : 1));
  const dense = predict(model, x, 3).data;
  if (!dense.every(Number.isFinite)) return `the nn forward pass answers ${Array.from(dense).find((v) => !Number.isFinite(v))}`;
  if (record.spec.layers.some((layer) => layer.type === 'conv2d')) return null; // STAGE4: compiled conv layers
  const compiled = compileModel(model, { backend: 'js' }).predict(x, 3);
  if (!compiled.every(Number.isFinite)) return `the compiled model answers ${Array.from(compiled).find((v) => !Number.isFinite(v))}`;
  return null;
}

/**
 * The nonzero entries of every parameter as [flat index, value] pairs, whatever the encoding. Equivalent to
 * comparing the densified parameters as JSON (where -0 and 0 print alike), without expanding a 65,537-wide
 * CSR matrix for every accepted case.
 */
function denseValues(record: ModelRecord): [string, [number, number][]][] {
  return [...record.params].map(([name, p]) => {
    const entries: [number, number][] = [];
    if (p.dense !== undefined) {
      p.dense.forEach((value, i) => {
        if (value !== 0) entries.push([i, value]);
      });
    } else {
      const { nRows, nCols, indptr, indices, values } = p.csr!;
      for (let r = 0; r < nRows; r++) {
        for (let k = indptr[r]!; k < indptr[r + 1]!; k++) if (values[k] !== 0) entries.push([r * nCols + indices[k]!, values[k]!]);
      }
    }
    return [name, entries];
  });
}

/** Runs one case through the property. `mustFail` marks mutations that can never leave a valid file. */
function check(tally: Tally, bytes: Uint8Array, label: string, mustFail = false): void {
  tally.cases++;
  const start = performance.now();
  let record: ModelRecord | undefined;
  let loadError: unknown;
  try {
    record = deserializeModel(bytes);
  } catch (error) {
    loadError = error;
  }
  let headerError: unknown;
  try {
    readModelHeader(bytes);
  } catch (error) {
    headerError = error;
  }
  const elapsed = performance.now() - start;
  if (tally.cases % 25 === 0) tally.sample.push({ bytes: bytes.slice(), label, outcome: outcomeOf(record, loadError) });
  if (elapsed > tally.slowestMs) {
    tally.slowestMs = elapsed;
    tally.slowestLabel = label;
  }

  const fail = (why: string) => {
    if (tally.failures.length < 20) tally.failures.push(`${label}: ${why}`);
  };
  if (loadError !== undefined) {
    if (!(loadError instanceof ModelFormatError) || !/^E_[A-Z0-9_]+$/.test(loadError.code)) {
      return fail(`load threw ${String((loadError as Error)?.name)}: ${String((loadError as Error)?.message ?? loadError)}`);
    }
    tally.codes.set(loadError.code, (tally.codes.get(loadError.code) ?? 0) + 1);
  }
  if (headerError !== undefined && !(headerError instanceof ModelFormatError)) {
    return fail(`readModelHeader threw ${String((headerError as Error)?.name)}: ${String((headerError as Error)?.message)}`);
  }
  if (record !== undefined) {
    tally.accepted++;
    if (mustFail) return fail('a mutation that must break the file was accepted');
    if (headerError !== undefined) return fail(`the file loads but its header is refused: ${(headerError as Error).message}`);
    try {
      const again = deserializeModel(serializeModel(record, { encoding: 'auto' }));
      if (JSON.stringify(denseValues(again)) !== JSON.stringify(denseValues(record))) fail('re-serialized model has different values');
    } catch (error) {
      fail(`accepted record does not re-serialize: ${(error as Error).message}`);
    }
    const why = nonFiniteAnswer(record);
    if (why !== null) return fail(`an accepted file gives a non-finite answer: ${why}`);
    tally.answered++;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Header JSON as an editable tree: objects are ordered key/value pairs (so duplicates can be written),
// and Raw holds literal JSON text (numbers such as 1e400 or -0 that JavaScript cannot express).
// ---------------------------------------------------------------------------------------------------------

class Raw {
  constructor(readonly text: string) {}
}
class Obj {
  constructor(public pairs: [string, unknown][]) {}
  get(key: string): unknown {
    return this.pairs.find(([k]) => k === key)?.[1];
  }
  set(key: string, value: unknown): void {
    const pair = this.pairs.find(([k]) => k === key);
    if (pair) pair[1] = value;
    else this.pairs.push([key, value]);
  }
  delete(key: string): void {
    this.pairs = this.pairs.filter(([k]) => k !== key);
  }
}

function toTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toTree);
  if (value !== null && typeof value === 'object') return new Obj(Object.entries(value).map(([k, v]) => [k, toTree(v)]));
  return value;
}

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) return `{${value.pairs.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  return JSON.stringify(value) ?? 'null';
}

const pick = <T,>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)] as T;

/** Numbers and values that have broken JSON-based loaders somewhere. */
const EVIL_NUMBERS = [
  '-1', '-0', '0', '1', '1.5', '2.0', '1e2', '1e400', '-1e400', '9007199254740991', '9007199254740992', '9007199254740993',
  '18446744073709551615', '4294967296', '2147483648', '2147483647', '0.0000001', '"3"', 'null', 'true', '[]', '{}', '[1]',
];

interface HeaderEdit {
  readonly name: string;
  /** Whether every file this edit produces is invalid. */
  readonly mustFail: boolean;
  /** Returns the new header text, or null if the edit does not apply to this file. */
  apply(rng: Rng, header: Obj, tensorNames: string[]): string | null;
}

const metadataOf = (header: Obj) => header.get('__metadata__') as Obj;

/** Edits the nested JSON stored in a metadata string. */
function editNested(header: Obj, key: string, edit: (tree: unknown) => string): string | null {
  const metadata = metadataOf(header);
  const text = metadata.get(key);
  if (typeof text !== 'string') return null;
  metadata.set(key, edit(toTree(JSON.parse(text))));
  return toJson(header);
}

const HEADER_EDITS: HeaderEdit[] = [
  {
    name: 'duplicate top-level tensor key',
    mustFail: true,
    apply: (rng, header, names) => {
      const name = pick(rng, names);
      header.pairs.splice(rng.int(header.pairs.length + 1), 0, [name, header.get(name)]);
      return toJson(header);
    },
  },
  {
    name: 'duplicate metadata key',
    mustFail: true,
    apply: (rng, header) => {
      const metadata = metadataOf(header);
      const [key, value] = pick(rng, metadata.pairs);
      metadata.pairs.push([key, rng.int(2) === 0 ? value : 'other']);
      return toJson(header);
    },
  },
  {
    name: 'duplicate field in a tensor entry',
    mustFail: true,
    apply: (rng, header, names) => {
      const entry = header.get(pick(rng, names)) as Obj;
      const [key, value] = pick(rng, entry.pairs);
      entry.pairs.splice(rng.int(entry.pairs.length + 1), 0, [key, value]);
      return toJson(header);
    },
  },
  {
    name: 'duplicate key inside nested metadata JSON',
    mustFail: true,
    apply: (rng, header) =>
      editNested(header, pick(rng, ['model', 'training', 'encodings']), (tree) => {
        const object = tree as Obj;
        if (object.pairs.length === 0) object.pairs.push(['x', 1]);
        object.pairs.push(object.pairs[0] as [string, unknown]);
        return toJson(object);
      }),
  },
  {
    name: '__proto__ / constructor / prototype keys',
    mustFail: true,
    apply: (rng, header, names) => {
      const key = pick(rng, ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']);
      const where = rng.int(4);
      if (where === 0) header.pairs.unshift([key, new Obj([['dtype', 'F32'], ['shape', [0]], ['data_offsets', [0, 0]]])]);
      else if (where === 1) metadataOf(header).pairs.push([key, '{"polluted":true}']);
      else if (where === 2) header.pairs.unshift([key, new Obj([['polluted', true]])]);
      else {
        // Rename a tensor: the data stays, but the architecture no longer finds its parameter.
        const pair = header.pairs.find(([k]) => k === pick(rng, names));
        if (pair) pair[0] = key;
      }
      return toJson(header);
    },
  },
  {
    name: 'evil shape',
    mustFail: false,
    apply: (rng, header, names) => {
      const entry = header.get(pick(rng, names)) as Obj;
      const shape = [...(entry.get('shape') as unknown[])];
      const choice = rng.int(5);
      if (choice === 0) entry.set('shape', new Raw(pick(rng, EVIL_NUMBERS)));
      else if (choice === 1) entry.set('shape', [1, 1, 1, 1, 1]);
      else if (choice === 2) entry.set('shape', []);
      else if (choice === 3 && shape.length > 0) {
        shape[rng.int(shape.length)] = (shape[0] as number) + pick(rng, [-1, 1, 2]);
        entry.set('shape', shape);
      } else {
        shape[rng.int(Math.max(shape.length, 1))] = new Raw(pick(rng, EVIL_NUMBERS));
        entry.set('shape', shape);
      }
      return toJson(header);
    },
  },
  {
    name: 'evil data offsets',
    mustFail: false,
    apply: (rng, header, names) => {
      const entry = header.get(pick(rng, names)) as Obj;
      const [begin, end] = entry.get('data_offsets') as [number, number];
      const choice = rng.int(6);
      if (choice === 0) entry.set('data_offsets', [end, begin]);
      else if (choice === 1) entry.set('data_offsets', [begin, end, end]);
      else if (choice === 2) {
        const delta = pick(rng, [-8, -4, -1, 1, 4, 8]);
        entry.set('data_offsets', [begin + delta, end + delta]);
      } else if (choice === 3) entry.set('data_offsets', [0, end - begin]); // overlap the first tensor
      else if (choice === 4) entry.set('data_offsets', new Raw(pick(rng, EVIL_NUMBERS)));
      else entry.set('data_offsets', rng.int(2) === 0 ? [new Raw(pick(rng, EVIL_NUMBERS)), end] : [begin, new Raw(pick(rng, EVIL_NUMBERS))]);
      return toJson(header);
    },
  },
  {
    name: 'dtype',
    mustFail: false,
    apply: (rng, header, names) => {
      const entry = header.get(pick(rng, names)) as Obj;
      entry.set('dtype', new Raw(pick(rng, ['"F16"', '"BF16"', '"f32"', '"I64"', '"BOOL"', '"F32"', '"I32"', '"U16"', '"u16"', '"I16"', '"U8"', '"F64"', '""', '7', 'null', '["F32"]'])));
      return toJson(header);
    },
  },
  {
    name: 'missing or extra tensor field',
    mustFail: true,
    apply: (rng, header, names) => {
      const entry = header.get(pick(rng, names)) as Obj;
      if (rng.int(2) === 0) entry.delete(pick(rng, ['dtype', 'shape', 'data_offsets']));
      else entry.pairs.push([pick(rng, ['strides', 'byte_order', 'DTYPE']), 0]);
      return toJson(header);
    },
  },
  {
    name: 'tensor entry removed or renamed',
    mustFail: true,
    apply: (rng, header, names) => {
      const name = pick(rng, names);
      if (rng.int(2) === 0) header.delete(name);
      else {
        const pair = header.pairs.find(([k]) => k === name);
        if (pair) pair[0] = pick(rng, [`${name}x`, name.toUpperCase(), `layers.99.weight`, `${name}.mask`, '']);
      }
      return toJson(header);
    },
  },
  {
    name: 'format / version metadata',
    mustFail: true,
    apply: (rng, header) => {
      const metadata = metadataOf(header);
      const choice = rng.int(6);
      if (choice === 0) metadata.delete('format');
      else if (choice === 1) metadata.set('format', pick(rng, ['pt', 'Sparsegrad', 'sparsegrad ', '']));
      else if (choice === 2) metadata.set('format_version', pick(rng, ['2', '0', '1.0', ' 1', '']));
      else if (choice === 3) metadata.delete('format_version');
      else if (choice === 4) metadata.set('format_version', new Raw(pick(rng, ['1', 'null', '["1"]'])));
      else metadata.set(pick(rng, ['author', 'Format', 'model2']), 'x');
      return toJson(header);
    },
  },
  {
    name: 'metadata not an object of strings',
    mustFail: true,
    apply: (rng, header) => {
      if (rng.int(2) === 0) header.set('__metadata__', new Raw(pick(rng, ['[]', '"x"', 'null', '1'])));
      else metadataOf(header).set(pick(rng, ['model', 'training', 'extra']), new Raw(pick(rng, ['1', 'null', '{}', '[]', 'true'])));
      return toJson(header);
    },
  },
  {
    name: 'architecture edits',
    mustFail: false,
    apply: (rng, header) =>
      editNested(header, 'model', (tree) => {
        const layers = (tree as Obj).get('layers') as Obj[];
        const layer = pick(rng, layers);
        const choice = rng.int(7);
        if (choice === 0) layer.set('type', pick(rng, ['conv', 'Linear', 'relu', 'dropout', '__proto__', 'constructor']));
        else if (choice === 1) layer.set(pick(rng, ['inFeatures', 'outFeatures']), new Raw(pick(rng, EVIL_NUMBERS)));
        else if (choice === 2) layer.set('bias', new Raw(pick(rng, ['false', 'true', '1', 'null', '"true"'])));
        else if (choice === 3) layer.set('p', new Raw(pick(rng, ['1', '-0.5', '0.99', '1e-300', '"0.5"', 'null'])));
        else if (choice === 4) layers.splice(rng.int(layers.length + 1), 0, new Obj([['type', pick(rng, ['relu', 'tanh', 'linear'])]]));
        else if (choice === 5) layers.splice(rng.int(layers.length), 1);
        else return toJson(tree).slice(0, rng.int(toJson(tree).length));
        return toJson(tree);
      }),
  },
  {
    name: 'training / encodings edits',
    mustFail: false,
    apply: (rng, header) => {
      const metadata = metadataOf(header);
      const choice = rng.int(6);
      if (choice === 0) metadata.set('training', pick(rng, ['[]', '{"a":', '{"__proto__":{"polluted":1}}', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, '{"ok":1}']));
      else if (choice === 1) metadata.delete('encodings');
      else if (choice === 2) metadata.set('encodings', pick(rng, ['{}', '[]', '{"layers.0.bias":{"kind":"csr","shape":[5]}}', '{"layers.0.weight":{"kind":"csr","shape":[6,5]}}']));
      else if (choice === 3) metadata.set('encodings', '{"layers.0.weight":{"kind":"csr","shape":[5,6]},"layers.3.weight":{"kind":"dense"}}');
      else if (choice === 4) metadata.set('training', `"${'x'.repeat(rng.int(100))}"`);
      else metadata.set('encodings', '{"layers.0.weight":{"kind":"csr","shape":[5,6]},"layers.0.weight":{"kind":"csr","shape":[5,6]}}');
      return toJson(header);
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// The fuzz run
// ---------------------------------------------------------------------------------------------------------

const tally = newTally();

describe('fuzzing the model loader', () => {
  const rng = new Rng(20261127);

  it('truncation: every length of the small files, random lengths of the others', () => {
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const lengths = file.length < 1000 ? Array.from({ length: file.length }, (_, i) => i) : Array.from({ length: 150 }, () => rng.int(file.length));
      for (const length of lengths) check(tally, file.subarray(0, length), `${name} truncated to ${length}`, true);
      for (let i = 0; i < 50; i++) check(tally, file.slice(0, file.length - 1 - rng.int(file.length)), `${name} truncated (copy)`, true);
    }
  });

  it('bit flips and byte overwrites, half of them aimed at the header', () => {
    const interesting = [0x00, 0xff, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x39, 0x3a, 0x5b, 0x5d, 0x5c, 0x7b, 0x7d, 0x65, 0x80, 0xc0, 0xef, 0x7f];
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const dataStart = 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
      for (let i = 0; i < 700; i++) {
        const bytes = file.slice();
        const flips = 1 + rng.int(4);
        for (let f = 0; f < flips; f++) {
          const position = rng.int(2) === 0 ? rng.int(dataStart) : rng.int(bytes.length);
          bytes[position] = (bytes[position] as number) ^ (1 << rng.int(8));
        }
        check(tally, bytes, `${name} bit flips #${i}`);
      }
      for (let i = 0; i < 350; i++) {
        const bytes = file.slice();
        const count = 1 + rng.int(3);
        for (let c = 0; c < count; c++) bytes[rng.int(2) === 0 ? rng.int(dataStart) : rng.int(bytes.length)] = pick(rng, interesting);
        check(tally, bytes, `${name} byte overwrite #${i}`);
      }
    }
  });

  it('the length prefix N: any change breaks the file', () => {
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const n = new DataView(file.buffer).getBigUint64(0, true);
      const size = BigInt(file.length);
      const values = [0n, 1n, 7n, 8n, n - 8n, n - 1n, n + 1n, n + 8n, size - 8n, size, size + 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
      for (let i = 0; i < 30; i++) values.push(BigInt(rng.nextUint32()) * BigInt(1 + rng.int(1000)));
      for (const value of values) {
        if (value === n || value < 0n) continue;
        const bytes = file.slice();
        new DataView(bytes.buffer).setBigUint64(0, value, true);
        check(tally, bytes, `${name} N=${value}`, true);
      }
    }
  });

  it('structured header edits', () => {
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const { headerText, data } = splitFile(file);
      for (let i = 0; i < 300; i++) {
        const header = toTree(JSON.parse(headerText)) as Obj;
        const tensorNames = header.pairs.map(([k]) => k).filter((k) => k !== '__metadata__');
        const edit = pick(rng, HEADER_EDITS);
        const text = edit.apply(rng, header, tensorNames);
        if (text === null) continue;
        check(tally, packFile(text, data), `${name} header edit "${edit.name}" #${i}: ${text.slice(0, 160)}`, edit.mustFail && text !== headerText.trimEnd());
      }
    }
  });

  it('padding, byte-order mark and trailing bytes', () => {
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const { headerText, data } = splitFile(file);
      const json = headerText.trimEnd();
      // Force some padding to exist, so a bad padding byte is really written.
      const spaced = json.length % 8 === 0 ? `${json.slice(0, -1)} }` : json;
      for (const pad of ['\0', '\t', '\n', '\r', '\u00a0', 'x']) check(tally, packFile(spaced, data, { pad }), `${name} padded with ${JSON.stringify(pad)}`, true);
      check(tally, packFile(`\ufeff${json}`, data), `${name} with a BOM`, true);
      check(tally, packFile(` ${json}`, data), `${name} with a leading space`, true);
      check(tally, packFile(`${json}\n`, data, { keepTrailing: true }), `${name} with a final newline`, true);
      // Valid: unpadded header (N not a multiple of 8) and extra space padding.
      const unpadded = new Uint8Array(8 + new TextEncoder().encode(json).length + data.length);
      const jsonBytes = new TextEncoder().encode(json);
      new DataView(unpadded.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
      unpadded.set(jsonBytes, 8);
      unpadded.set(data, 8 + jsonBytes.length);
      check(tally, unpadded, `${name} unpadded header`);
      check(tally, packFile(`${json}${' '.repeat(9)}`, data), `${name} extra spaces`);
      for (let i = 0; i < 20; i++) {
        const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
        check(tally, new Uint8Array([...file, ...extra]), `${name} + ${extra.length} trailing bytes`, true);
      }
    }
  });

  it('data edits: CSR structure (U16 and I32 column indices), NaN/Inf (F32 and F16), masks', () => {
    const indexEdits = new Map<string, number>();
    let halfEdits = 0;
    for (const [name, file] of Object.entries(SEED_FILES)) {
      const header = JSON.parse(splitFile(file).headerText) as Record<string, { dtype: string; shape: number[] }>;
      const tensors = Object.keys(header).filter((k) => k !== '__metadata__');
      const metadata = header['__metadata__'] as unknown as Record<string, string>;
      const encodings = JSON.parse(metadata['encodings'] ?? '{}') as Record<string, { shape: number[] }>;
      for (let i = 0; i < 200; i++) {
        // Half of the edits go to CSR column indices where there are any, so both index widths get real coverage.
        const indexTensors = tensors.filter((t) => t.endsWith('.csr.indices'));
        const tensor = indexTensors.length > 0 && rng.int(2) === 0 ? pick(rng, indexTensors) : pick(rng, tensors);
        const { start, end, dtype } = tensorLocation(file, tensor);
        const count = (end - start) / elementSize(dtype);
        if (count === 0) continue;
        const bytes = file.slice();
        const view = new DataView(bytes.buffer);
        const index = rng.int(count);
        let mustFail = false;
        // The width of the matrix whose column indices these are (undefined for any other tensor): the
        // product of the weight's dimensions after the first (a conv2d weight is stored as [out, in·kh·kw]).
        const csrShape = tensor.endsWith('.csr.indices') ? encodings[tensor.slice(0, -'.csr.indices'.length)]?.shape : undefined;
        const nCols = csrShape?.slice(1).reduce((a, b) => a * b, 1);
        if (nCols !== undefined) indexEdits.set(dtype, (indexEdits.get(dtype) ?? 0) + 1);
        if (dtype === 'F32') {
          // Finite but huge values too: they must be refused (E_OVERFLOW) or still give finite answers.
          view.setFloat32(start + index * 4, pick(rng, [NaN, Infinity, -Infinity, 0, 1e30, -1, 3e38, -3.3e38, 1.7e38, 2 ** 127]), true);
          mustFail = !Number.isFinite(view.getFloat32(start + index * 4, true));
        } else if (dtype === 'F16') {
          // Bit patterns: NaN, ±Infinity (refused like float32 ones), the largest and smallest halves, −0, noise.
          const bits = pick(rng, [0x7e00, 0x7c01, 0x7c00, 0xfc00, 0x7bff, 0xfbff, 0x0001, 0x8000, rng.int(0x10000)]);
          view.setUint16(start + index * 2, bits, true);
          mustFail = (bits & 0x7c00) === 0x7c00;
          halfEdits++;
        } else if (dtype === 'I32') {
          const old = view.getInt32(start + index * 4, true);
          const value = pick(rng, [old + 1, old - 1, -1, 0, 2 ** 31 - 1, -(2 ** 31), rng.int(10), old, 65535, 65536, 65537]);
          view.setInt32(start + index * 4, value, true);
          if (nCols !== undefined) mustFail = value < 0 || value >= nCols;
        } else if (dtype === 'U16') {
          // Column indices: neighbours (duplicates, unsorted), the ends of the range and what -1 becomes in 16 bits.
          const old = view.getUint16(start + index * 2, true);
          const value = pick(rng, [old + 1, old - 1, 0, 65535, 32768, rng.int(10), old]);
          view.setUint16(start + index * 2, value & 0xffff, true);
          mustFail = (value & 0xffff) >= (nCols ?? 0);
        } else {
          const value = pick(rng, [0, 1, 2, 255]);
          bytes[start + index] = value;
          // Only a mask must hold 0/1; other byte tensors (int8 codes, packed and Huffman streams) may be valid.
          mustFail = value > 1 && tensor.endsWith('.mask');
        }
        check(tally, bytes, `${name} data edit of ${tensor}[${index}]`, mustFail);
      }
    }
    // Both stored widths of column indices were really mutated.
    expect(indexEdits.get('U16') ?? 0).toBeGreaterThan(200);
    expect(indexEdits.get('I32') ?? 0).toBeGreaterThan(100);
    // So were F16 biases and codebooks.
    expect(halfEdits).toBeGreaterThan(50);
  });

  it('holds for every case: only ModelFormatError, re-serializable results, fast, no pollution', () => {
    // A run over the seed files themselves, which must load.
    for (const [name, file] of Object.entries(SEED_FILES)) expect(() => deserializeModel(file), name).not.toThrow();
    expect(tally.failures).toEqual([]);
    expect(tally.cases).toBeGreaterThan(10000);
    expect(tally.slowestMs, `slowest case: ${tally.slowestLabel}`).toBeLessThan(1000);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Both outcomes must be well represented, or the mutations are not reaching the interesting checks.
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.answered).toBe(tally.accepted);
    for (const code of ['E_OVERFLOW', 'E_MODEL_TRUNCATED', 'E_HEADER_JSON', 'E_DUPLICATE_KEY', 'E_BAD_SHAPE', 'E_BAD_OFFSETS', 'E_BAD_DTYPE', 'E_TRAILING_DATA', 'E_HEADER_TOO_LARGE', 'E_NON_FINITE', 'E_BAD_CSR', 'E_BAD_MASK', 'E_BAD_SPEC', 'E_NOT_SPARSEGRAD', 'E_UNSUPPORTED_VERSION', 'E_BAD_METADATA', 'E_MISSING_TENSOR', 'E_UNEXPECTED_TENSOR', 'E_HEADER_SCHEMA', 'E_BAD_QUANT', 'E_BAD_ENCODING', 'E_BAD_HUFFMAN', 'E_BAD_GAPS']) {
      expect(tally.codes.get(code) ?? 0, `no case produced ${code}`).toBeGreaterThan(0);
    }
    console.info(
      `fuzz: ${tally.cases} cases, ${tally.accepted} accepted (all answer finitely), slowest ${tally.slowestMs.toFixed(1)} ms; ` +
        [...tally.codes].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', '),
    );
  });
});

describe('fuzzing through the file path', () => {
  const scratch = scratchDirectory('fuzz-files');
  afterAll(scratch.remove);
  let fileNumber = 0;
  const fileWith = (bytes: Uint8Array): string => {
    const path = join(scratch.dir, `case-${fileNumber++}.safetensors`);
    writeFileSync(path, bytes);
    return path;
  };
  const load = async (path: string): Promise<{ record?: ModelRecord; error?: unknown }> => {
    try {
      return { record: await loadModelFile(path) };
    } catch (error) {
      return { error };
    }
  };

  it('loadModelFile agrees with deserializeModel on a sample of every kind of mutation', async () => {
    expect(tally.sample.length).toBeGreaterThan(400);
    const disagreements: string[] = [];
    for (const { bytes, label, outcome } of tally.sample) {
      const { record, error } = await load(fileWith(bytes));
      const fromFile = outcomeOf(record, error);
      if (fromFile !== outcome) disagreements.push(`${label}: in memory ${outcome}, from a file ${fromFile}`);
      else if (record !== undefined && nonFiniteAnswer(record) !== null) disagreements.push(`${label}: ${nonFiniteAnswer(record)}`);
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
  });

  it('special files are refused without blocking or reading; a link to a valid file loads', { timeout: 30_000 }, async () => {
    const valid = fileWith(SEED_FILES['csrMasked']!);
    const dir = join(scratch.dir, 'special');
    mkdirSync(dir);
    const fifo = makeFifo(join(dir, 'pipe'));
    symlinkSync(valid, join(dir, 'to-valid'));
    symlinkSync(fifo, join(dir, 'to-fifo'));
    const cases: [string, RegExp | null][] = [
      [fifo, /FIFO/],
      [dir, /directory/],
      [join(dir, 'to-fifo'), /FIFO/],
      [join(dir, 'to-valid'), null],
    ];
    if (canMakeDevices()) {
      cases.push([makeDevice(join(dir, 'null'), 'null'), /character device/]);
      cases.push([makeDevice(join(dir, 'full'), 'full'), /character device/]);
    }
    const cancel = unblockFifoLater(fifo, 10_000); // a regression would block on the FIFO: release it, and fail
    try {
      for (const [path, refusal] of cases) {
        const { record, error } = await load(path);
        if (refusal === null) {
          expect(record, String(error)).toBeDefined();
          expect(nonFiniteAnswer(record!)).toBeNull();
        } else {
          expect(error, path).toBeInstanceOf(ModelFormatError);
          expect((error as ModelFormatError).code).toBe('E_UNREADABLE');
          expect((error as Error).message).toMatch(refusal);
        }
      }
    } finally {
      cancel();
    }
  });

  it('a file that another process keeps truncating and rewriting loads whole or is refused, never half', { timeout: 60_000 }, async () => {
    const original = serializeModel(sampleRecord(SMALL_SPEC, { seed: 11, sparsity: 0.5, masks: true }), { encoding: 'csr' });
    const path = fileWith(original);
    const expected = JSON.stringify(denseValues(deserializeModel(original)));
    // The other process: for about two seconds, truncate to a random length, then write the whole file again.
    const script = `const fs = require('fs'); const bytes = fs.readFileSync(process.argv[1]); const end = Date.now() + 2000;
      while (Date.now() < end) { fs.truncateSync(process.argv[1], Math.floor(Math.random() * bytes.length)); fs.writeFileSync(process.argv[1], bytes); }`;
    const writer = spawn(process.execPath, ['-e', script, path], { stdio: 'ignore' });
    let running = true;
    const finished = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
    void finished.then(() => (running = false));
    const outcomes = new Map<string, number>();
    while (running) {
      const { record, error } = await load(path);
      const outcome = outcomeOf(record, error);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (record !== undefined) expect(JSON.stringify(denseValues(record))).toBe(expected);
      else expect(error, String(error)).toBeInstanceOf(ModelFormatError);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await finished;
    console.info(`loads while another process rewrote the file: ${[...outcomes].map(([outcome, n]) => `${outcome} ${n}`).join(', ')}`);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  });
});
