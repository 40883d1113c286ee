import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializeModel } from '../../src/io/model-file.ts';
import { DEFAULT_BACKEND } from '../../src/tensor/backend.ts';
import { loadDigits } from '../../src/node/data.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-cli-'));
const model = join(dir, 'small.safetensors');
const pruned = join(dir, 'pruned.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-64-10', '--epochs', '2', '--batch', '64', '--seed', '3', '--out', model, '--json', '--quiet']);
  expect(result.code, result.stderr).toBe(0);
});

describe('sparsegrad train', () => {
  it('reports the required fields as the last JSON line and saves the model', async () => {
    const result = await runCli(['train', '--arch', '784-32-10', '--epochs', '1', '--json', '--quiet', '--out', join(dir, 'a.safetensors')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ epochs: 1, parameters: 784 * 32 + 32 + 32 * 10 + 10 });
    expect(result.json!['testAccuracy']).toBeGreaterThan(0.8);
    expect(result.json!['secondsPerEpoch']).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'a.safetensors'))).toBe(true);
  });

  it('gives byte-identical model files for the same seed', async () => {
    await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '9', '--quiet', '--out', join(dir, 's1.safetensors')]);
    await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '9', '--quiet', '--out', join(dir, 's2.safetensors')]);
    expect(readFileSync(join(dir, 's1.safetensors')).equals(readFileSync(join(dir, 's2.safetensors')))).toBe(true);
  });

  it('trains on the --backend it names: said in --json and in the file, byte-identical for the same seed', async () => {
    const files = ['b1', 'b2'].map((name) => join(dir, `${name}.safetensors`));
    for (const file of files) {
      const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '9', '--backend', 'wasm-simd', '--json', '--quiet', '--out', file]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ backend: 'wasm-simd' });
    }
    expect(readFileSync(files[0]!).equals(readFileSync(files[1]!))).toBe(true);
    expect(deserializeModel(readFileSync(files[0]!)).training).toMatchObject({ command: 'train', backend: 'wasm-simd' });
    expect(deserializeModel(readFileSync(join(dir, 's1.safetensors'))).training).toMatchObject({ backend: DEFAULT_BACKEND });
    const bad = await runCli(['train', '--backend', 'gpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backend must be js or wasm-simd, got 'gpu'/);
  });

  it('exits 2 on usage errors, naming the problem', async () => {
    for (const [argv, pattern] of [
      [['train', '--epochs', 'many'], /--epochs must be an integer/],
      [['train', '--bogus'], /Unknown option '--bogus'/],
      [['train', '--arch', '783-10'], /784 features/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['prune', '--model', model, '--sparsity', '1.5'], /--sparsity must be a number ≥ 0 < 1/],
      [['prune', '--model', model, '--criterion', 'hessian'], /unknown criterion 'hessian'/],
      [['prune', '--model', model, '--lr-schedule', 'linear'], /--lr-schedule must be one of constant, cosine, hold-cosine, got 'linear'/],
    ] as const) {
      const result = await runCli([...argv]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(pattern);
    }
  });

  it('exits 3 on a corrupt model file or bad data, with the library error code', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, readFileSync(model).subarray(0, 500));
    const result = await runCli(['inspect', bad, '--json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/E_MODEL_TRUNCATED|E_BAD_OFFSETS|E_HEADER/);
    expect(result.json).toMatchObject({ error: { code: expect.stringMatching(/^E_/) } });
    const idx = mkdtempSync(join(dir, 'idx-'));
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      copyFileSync(join('data/digits', f), join(idx, f));
    }
    writeFileSync(join(idx, 't10k-labels-idx1-ubyte.gz'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]));
    const data = await runCli(['train', '--data', idx, '--epochs', '1', '--quiet']);
    expect(data.code).toBe(3);
    expect(data.stderr).toMatch(/truncated|labels/);
    const missing = await runCli(['inspect', join(dir, 'nope.safetensors')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/E_UNREADABLE/);
  });
});

describe('sparsegrad prune, inspect, compile, predict, export', () => {
  it('prunes, reports per-layer rows and saves a smaller CSR file', async () => {
    const result = await runCli(['prune', '--model', model, '--method', 'oneshot', '--sparsity', '0.9', '--epochs', '1', '--out', pruned, '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['sparsity']).toBeCloseTo(0.9, 3);
    expect(result.json!['testAccuracy']).toBeGreaterThan(0.7);
    expect((result.json!['layers'] as unknown[]).length).toBe(2);
    expect(readFileSync(pruned).length * 3).toBeLessThan(readFileSync(model).length);
  });

  it('writes a 95 %-sparse LeNet-300-100 file at least 12× smaller than the dense one', async () => {
    const dense = join(dir, 'lenet.safetensors');
    const sparse = join(dir, 'lenet-95.safetensors');
    expect((await runCli(['train', '--epochs', '1', '--quiet', '--out', dense])).code).toBe(0);
    const result = await runCli(['prune', '--model', dense, '--method', 'oneshot', '--sparsity', '0.95', '--epochs', '0', '--out', sparse, '--quiet', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const ratio = readFileSync(dense).length / readFileSync(sparse).length;
    expect(ratio).toBeGreaterThanOrEqual(12);
  });

  it('inspects a file', async () => {
    const result = await runCli(['inspect', pruned, '--json']);
    expect(result.code).toBe(0);
    expect(result.json!['params']).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'layers.0.weight', encoding: 'csr' })]));
  });

  it('compiles and predicts exactly like the dense model on the digits test split', async () => {
    const result = await runCli(['compile', '--model', pruned, '--data', 'digits', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['check']).toMatchObject({ samples: 2000, mismatches: 0 });
  });

  it('compiles for the WebAssembly SIMD backend and predicts like the dense model on the digits test split', async () => {
    const result = await runCli(['compile', '--model', pruned, '--data', 'digits', '--backend', 'wasm-simd', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ backend: 'wasm-simd', check: { samples: 2000, mismatches: 0 } });
    const bad = await runCli(['compile', '--model', pruned, '--backend', 'gpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backend must be js or wasm-simd, got 'gpu'/);
    const badStrategy = await runCli(['compile', '--model', pruned, '--backend', 'wasm-simd', '--strategy', 'autotune']);
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toMatch(/--strategy must be one of auto, dense, csr, bsr4x1 with --backend wasm-simd/);
  });

  it('predicts an IDX file with labels', async () => {
    const result = await runCli(['predict', '--model', pruned, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--labels', 'data/digits/t10k-labels-idx1-ubyte.gz', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['count']).toBe(2000);
    expect(result.json!['accuracy']).toBeGreaterThan(0.7);
  });

  it('predicts a PGM image', async () => {
    const { test } = loadDigits();
    const pixels = Uint8Array.from(test.x.subarray(0, 784), (v) => Math.round(v * 255));
    const pgm = join(dir, 'digit.pgm');
    writeFileSync(pgm, Buffer.concat([Buffer.from('P5\n# a digit\n28 28\n255\n'), Buffer.from(pixels)]));
    const result = await runCli(['predict', '--model', pruned, '--input', pgm, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['count']).toBe(1);
  });

  it('exports ONNX that onnxruntime runs to the same classes as sparsegrad', async () => {
    const onnx = join(dir, 'pruned.onnx');
    expect((await runCli(['export', '--model', pruned, '--onnx', onnx])).code).toBe(0);
    const ours = await runCli(['predict', '--model', pruned, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--json']);
    const { test } = loadDigits();
    const session = await InferenceSession.create(readFileSync(onnx));
    const output = await session.run({ x: new OrtTensor('float32', test.x, [test.count, 784]) });
    const logits = output['logits']!.data as Float32Array;
    const classes = Array.from({ length: test.count }, (_, i) => {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[i * 10 + c]! > logits[i * 10 + best]!) best = c;
      return best;
    });
    expect(classes).toEqual(ours.json!['predictions']);
  });
});
