/**
 * importModel and `sparsegrad import`: every fixture (test/fixtures/import, built by make_fixtures.py with numpy
 * and its own protobuf writer) imports to a model whose logits match numpy's float64 forward pass; a model
 * exported to ONNX imports back to the same weights (sparse initializers as CSR); and every malformed or
 * unsupported input is a typed error that names what is wrong.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ModelFormatError } from '../../src/errors.ts';
import { recordLayers } from '../../src/infer/record-layers.ts';
import { detectImportFormat, importModel, naturalCompare } from '../../src/io/import/index.ts';
import { csrToDense, deserializeModel, serializeModel, type ModelRecord } from '../../src/io/model-file.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { compileInference } from '../../src/sparse/index.ts';
import { runCli } from '../cli/run-cli.ts';
import { SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';

const FIXTURES = new URL('../fixtures/import/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as {
  batch: number; features: number; inputs: number[]; files: Record<string, { activation: string; logits: number[] }>;
};
const fixture = (name: string): Uint8Array => readFileSync(new URL(name, FIXTURES));
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function logits(record: ModelRecord, x: Float32Array, batch: number): Float32Array {
  return compileInference(recordLayers(record), { backend: 'js' }).predict(x, batch).slice();
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(tolerance);
}

/** The error a call throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): ModelFormatError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return error as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError');
}

describe('importModel: the numpy fixtures', () => {
  const x = Float32Array.from(expected.inputs);
  for (const [name, info] of Object.entries(expected.files)) {
    it(`${name} gives numpy's logits`, () => {
      const options = info.activation === 'tanh' && name.endsWith('.safetensors') ? { activation: 'tanh' as const } : {};
      const record = importModel(fixture(name), options);
      expect(detectImportFormat(fixture(name))).toBe(name.endsWith('.onnx') ? 'onnx' : 'safetensors');
      expectClose(logits(record, x, expected.batch), info.logits, 1e-5);
      // The record is a valid model file.
      expect(deserializeModel(serializeModel(record)).spec).toEqual(record.spec);
    });
  }

  it('keeps sparse weights sparse: CSR state_dicts and ONNX sparse initializers become CSR', () => {
    for (const name of ['pruned-csr.safetensors', 'gemm-sparse-f16.onnx']) {
      const record = importModel(fixture(name));
      expect([...record.params].filter(([n]) => n.endsWith('.weight')).every(([, p]) => p.csr !== undefined), name).toBe(true);
    }
    // weight_orig + weight_mask: the mask is kept as the pruning mask.
    const pruned = importModel(fixture('pruned.safetensors'));
    expect(pruned.params.get('layers.0.weight')!.mask).toBeInstanceOf(Uint8Array);
  });

  it('orders state_dict layers naturally (fc2 before fc10), or as told; states what it assumed', () => {
    expect(['fc10', 'fc2', 'fc1', 'net.10', 'net.2', 'out'].sort(naturalCompare)).toEqual(['fc1', 'fc2', 'fc10', 'net.2', 'net.10', 'out']);
    const record = importModel(fixture('fc-natural.safetensors'));
    expect(record.training).toEqual({ imported: { from: 'safetensors', layers: ['fc1', 'fc2', 'fc10'], activation: 'relu' } });
    expect(thrown(() => importModel(fixture('fc-natural.safetensors'), { layers: ['fc1', 'fc10', 'fc2'] })).code).toBe('E_BAD_SHAPE');
    expect(thrown(() => importModel(fixture('fc-natural.safetensors'), { layers: ['fc1', 'fc2'] })).message).toMatch(/the file's layers are "fc1", "fc2", "fc10"/);
    expect(importModel(fixture('net-f32.safetensors'), { activation: 'sigmoid' }).spec.layers.map((l) => l.type)).toEqual(['linear', 'sigmoid', 'linear', 'sigmoid', 'linear']);
  });

  it('reads a sparsegrad file as it is, and refuses options that do not apply', () => {
    const bytes = serializeModel(sampleRecord(SMALL_SPEC, { seed: 2, sparsity: 0.5 }), { encoding: 'csr' });
    expect(importModel(bytes).spec).toEqual(deserializeModel(bytes).spec);
    expect(() => importModel(fixture('gemm-flatten.onnx'), { activation: 'tanh' })).toThrow(ConfigError);
    expect(() => importModel(fixture('gemm-flatten.onnx'), { from: 'tflite' as 'onnx' })).toThrow(ConfigError);
  });
});

describe('importModel: ONNX exported by sparsegrad comes back', () => {
  for (const sparseInitializers of ['never', 'always'] as const) {
    it(`with ${sparseInitializers === 'never' ? 'dense' : 'sparse'} initializers, the same weights`, () => {
      const record = sampleRecord(SMALL_SPEC, { seed: 4, sparsity: 0.6 });
      const params = new Map([...record.params].map(([n, p]) => [n, p.dense ?? csrToDense(p.csr!)] as const));
      const back = importModel(exportOnnx(record.spec, params, { sparseInitializers }));
      // Dropout is the identity at inference and is not exported; the rest comes back in order.
      expect(back.spec.layers.map((l) => l.type)).toEqual(['linear', 'relu', 'linear', 'tanh', 'linear']);
      const x = Float32Array.from({ length: 5 * 6 }, (_, i) => Math.cos(i));
      expectClose(logits(back, x, 5), logits(record, x, 5), 1e-6);
      expect(back.params.get('layers.0.weight')!.csr !== undefined).toBe(sparseInitializers === 'always');
    });
  }
});

/** A state_dict file from tensors given as [name, dtype, shape, values]. */
function stateDict(tensors: [string, 'F32' | 'I32' | 'U8', number[], number[]][]): Uint8Array {
  const kinds = { F32: Float32Array, I32: Int32Array, U8: Uint8Array };
  return encodeSafetensors(tensors.map(([name, dtype, shape, values]) => [name, { dtype, shape, data: kinds[dtype].from(values) }] as const));
}

describe('importModel: malformed and unsupported state_dicts are typed errors', () => {
  const w = (out: number, inp: number, v = 0.5): number[] => new Array<number>(out * inp).fill(v);
  it.each([
    ['a tensor that is not a Linear parameter', [['0.weight', 'F32', [2, 3], w(2, 3)], ['1.running_mean', 'F32', [2], [0, 0]]], 'E_UNEXPECTED_TENSOR', /"1.running_mean" is not a parameter of a Linear layer/],
    ['layers that do not chain', [['0.weight', 'F32', [2, 3], w(2, 3)], ['1.weight', 'F32', [2, 4], w(2, 4)]], 'E_BAD_SHAPE', /layer "1" takes 4 inputs but layer "0".* gives 2/],
    ['a 1-D weight', [['0.weight', 'F32', [6], w(2, 3)]], 'E_BAD_SHAPE', /a Linear weight is 2-D/],
    ['a bias of the wrong length', [['0.weight', 'F32', [2, 3], w(2, 3)], ['0.bias', 'F32', [3], [0, 0, 0]]], 'E_BAD_SHAPE', /must be \[2\]/],
    ['a weight mask without its weight_orig', [['0.weight_mask', 'F32', [2, 3], w(2, 3, 1)]], 'E_MISSING_TENSOR', /"0.weight_orig" is missing/],
    ['a mask that is not 0/1', [['0.weight_orig', 'F32', [2, 3], w(2, 3)], ['0.weight_mask', 'F32', [2, 3], [1, 0, 0.5, 1, 1, 1]]], 'E_BAD_MASK', /holds 0.5/],
    ['two weights for one layer', [['0.weight', 'F32', [2, 3], w(2, 3)], ['0.weight_orig', 'F32', [2, 3], w(2, 3)], ['0.weight_mask', 'F32', [2, 3], w(2, 3, 1)]], 'E_MISSING_TENSOR', /exactly one weight/],
    ['a non-finite weight', [['0.weight', 'F32', [1, 2], [1, NaN]]], 'E_NON_FINITE', /NaN/],
    ['integer weights', [['0.weight', 'I32', [1, 2], [1, 2]]], 'E_BAD_DTYPE', /weights must be F32, F16, BF16, F64/],
    ['CSR indices out of range', [['0.weight.crow_indices', 'I32', [3], [0, 1, 2]], ['0.weight.col_indices', 'I32', [2], [0, 7]], ['0.weight.values', 'F32', [2], [1, 2]], ['0.weight.size', 'I32', [2], [2, 3]]], 'E_BAD_CSR', /column 7/],
    ['CSR row pointers that decrease', [['0.weight.crow_indices', 'I32', [3], [0, 2, 1]], ['0.weight.col_indices', 'I32', [1], [0]], ['0.weight.values', 'F32', [1], [1]], ['0.weight.size', 'I32', [2], [2, 3]]], 'E_BAD_CSR', /decreases at row 1/],
    ['CSR row pointers that miss the entries', [['0.weight.crow_indices', 'I32', [3], [0, 1, 1]], ['0.weight.col_indices', 'I32', [2], [0, 1]], ['0.weight.values', 'F32', [2], [1, 2]], ['0.weight.size', 'I32', [2], [2, 3]]], 'E_BAD_CSR', /must start at 0 and end at nnz = 2/],
    ['CSR columns out of order', [['0.weight.crow_indices', 'I32', [3], [0, 2, 2]], ['0.weight.col_indices', 'I32', [2], [2, 1]], ['0.weight.values', 'F32', [2], [1, 2]], ['0.weight.size', 'I32', [2], [2, 3]]], 'E_BAD_CSR', /not strictly increasing in row 0/],
    ['a CSR weight without its size', [['0.weight.crow_indices', 'I32', [3], [0, 1, 1]], ['0.weight.col_indices', 'I32', [1], [0]], ['0.weight.values', 'F32', [1], [1]]], 'E_MISSING_TENSOR', /"0.weight.size" is missing/],
    ['no layers at all', [], 'E_BAD_SPEC', /no fully connected or convolution layer/],
  ] as [string, [string, 'F32' | 'I32' | 'U8', number[], number[]][], string, RegExp][])('%s', (_, tensors, code, message) => {
    const error = thrown(() => importModel(stateDict(tensors)));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('refuses a container whose dtype, shape or offsets lie, as the model loader does', () => {
    const good = new Uint8Array(fixture('net-f16.safetensors')); // a plain copy: Buffer.slice would share memory
    const header = new TextDecoder().decode(good.subarray(8, 8 + Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true))));
    const withHeader = (text: string): Uint8Array => {
      const padded = text.padEnd(header.length, ' ');
      const out = good.slice();
      out.set(new TextEncoder().encode(padded), 8);
      return out;
    };
    expect(thrown(() => importModel(withHeader(header.replace('"F16"', '"F32"')))).code).toBe('E_BAD_OFFSETS'); // dtype lie: sizes no longer fit
    expect(thrown(() => importModel(withHeader(header.replace('"F16"', '"Q4"')))).code).toBe('E_BAD_DTYPE');
    expect(thrown(() => importModel(good.subarray(0, good.length - 3))).code).toBe('E_MODEL_TRUNCATED');
  });
});

describe('sparsegrad import (command line)', () => {
  it('imports a state_dict and an ONNX file, writes a model file the loader accepts, and prints JSON', async () => {
    for (const [name, from] of [['pruned.safetensors', 'safetensors'], ['matmul-add.onnx', 'onnx']] as const) {
      const input = join(work, name);
      writeFileSync(input, fixture(name));
      const out = join(work, `${name}.sparsegrad.safetensors`);
      const result = await runCli(['import', '--from', from, input, '--out', out, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ from, out, spec: { layers: expect.any(Array) } });
      const x = Float32Array.from(expected.inputs);
      expectClose(logits(deserializeModel(readFileSync(out)), x, expected.batch), expected.files[name]!.logits, 1e-5);
    }
  });

  it('exits 3 for an unsupported file and 2 for bad usage, writing nothing', async () => {
    const bad = join(work, 'bad.onnx');
    writeFileSync(bad, Uint8Array.of(0x08, 0x07, 0x3a, 0xff)); // ir_version 7, then a graph field that runs past the end
    const out = join(work, 'never.safetensors');
    const refused = await runCli(['import', '--from', 'onnx', bad, '--out', out]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/E_ONNX_PROTOBUF/);
    expect((await runCli(['import', '--from', 'tflite', bad, '--out', out])).code).toBe(2);
    expect((await runCli(['import', '--from', 'onnx', bad, '--out', out, '--activation', 'tanh'])).code).toBe(2);
    expect(() => readFileSync(out)).toThrow();
  });
});
