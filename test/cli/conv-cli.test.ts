/**
 * The convolutional path through the command line, as a user on a fresh clone would take it: train
 * LeNet-5 on the digits (`--arch lenet5`), inspect it, predict a PNG digit, export ONNX that onnxruntime runs
 * to the same classes, prune it (filters; 90 % of the weights) and compile the pruned model for sparse inference;
 * prune and quantize it (8-bit conv / 5-bit fc codebooks) and take the quantized file through every command. (One epoch here to keep the suite fast; the README's commands use more.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../../src/node/data.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-conv-cli-'));
const lenet = join(dir, 'lenet5.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A grayscale 8-bit PNG of `pixels` (row-major, width × height); CRCs are zero, which the reader ignores. */
function grayPng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array): number[] => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, data.length);
    return [...length, ...Buffer.from(type, 'latin1'), ...data, 0, 0, 0, 0];
  };
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header[8] = 8;
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', header), ...chunk('IDAT', deflateSync(raw)), ...chunk('IEND', new Uint8Array(0))]);
}

beforeAll(async () => {
  const result = await runCli(['train', '--data', 'digits', '--arch', 'lenet5', '--epochs', '1', '--out', lenet, '--json', '--quiet']);
  expect(result.code, result.stderr).toBe(0);
  expect(result.json).toMatchObject({ architecture: 'lenet5', parameters: 431080 });
  expect(result.json!['testAccuracy']).toBeGreaterThan(0.85);
}, 120_000);

describe('LeNet-5 on the command line', () => {
  it('inspect shows the convolutional architecture', async () => {
    const result = await runCli(['inspect', lenet]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('reshape([1, 28, 28]) → conv2d(1→20, 5×5) → relu → maxpool2d(2×2) → conv2d(20→50, 5×5)');
    expect(result.stdout).toMatch(/layers\.1\.weight\s+20x1x5x5/);
  });

  it('predict reads a PNG digit', async () => {
    const { test } = loadDigits();
    const png = join(dir, 'digit.png');
    writeFileSync(png, grayPng(28, 28, Uint8Array.from(test.x.subarray(0, 784), (v) => Math.round(v * 255))));
    const result = await runCli(['predict', '--model', lenet, '--input', png, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ count: 1 });
    const labels = await runCli(['predict', '--model', lenet, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--labels', 'data/digits/t10k-labels-idx1-ubyte.gz', '--json']);
    expect(labels.json!['accuracy']).toBeGreaterThan(0.85);
  });

  it('export --onnx writes a file onnxruntime runs to the same classes', async () => {
    const onnx = join(dir, 'lenet5.onnx');
    expect((await runCli(['export', '--model', lenet, '--onnx', onnx])).code).toBe(0);
    const ours = await runCli(['predict', '--model', lenet, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--json']);
    const { test } = loadDigits();
    const session = await InferenceSession.create(readFileSync(onnx));
    const logits = (await session.run({ x: new OrtTensor('float32', test.x, [test.count, 784]) }))['logits']!.data as Float32Array;
    const classes = Array.from({ length: test.count }, (_, i) => {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[i * 10 + c]! > logits[i * 10 + best]!) best = c;
      return best;
    });
    expect(classes).toEqual(ours.json!['predictions']);
    await session.release();
  });

  it('prune --granularity filter removes whole filters and saves the smaller model; per-layer sparsities work', async () => {
    const filtered = join(dir, 'lenet5-filters.safetensors');
    // Scope 'layer' takes the same fraction of filters (and fc1 units) from every hidden layer. Exactly half of
    // them (10 of 20, 25 of 50, 250 of 500) leaves 250 + 6,250 + 100,000 + 2,500 = 109,000 of the 430,500
    // weights: sparsity 321,500 / 430,500 = 0.746806 (issue 15's protocol; 0.75 removed 11 conv1 filters).
    const result = await runCli(['prune', '--model', lenet, '--method', 'oneshot', '--granularity', 'filter', '--scope', 'layer', '--sparsity', '0.746806', '--epochs', '1', '--out', filtered, '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const shrink = result.json!['shrink'] as { parameters: { before: number; after: number }; flops: { before: number; after: number } };
    expect(shrink.parameters.before).toBe(431080);
    expect(shrink.parameters.after).toBeLessThan(431080 / 3);
    expect(shrink.flops.after).toBeLessThan(shrink.flops.before / 2);
    expect(result.json!['testAccuracy']).toBeGreaterThan(0.8);
    const inspect = await runCli(['inspect', filtered, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const convs = ((inspect.json!['spec'] as { layers: { type: string; outChannels?: number }[] }).layers).filter((l) => l.type === 'conv2d');
    expect(convs.map((l) => l.outChannels)).toEqual([10, 25]);
    expect(shrink.parameters.after).toBe(109295); // 109,000 weights + 10 + 25 + 250 + 10 biases
    const han = await runCli(['prune', '--model', lenet, '--method', 'oneshot', '--layer-sparsity', 'layers.1=0.34,layers.4=0.88,layers.8=0.92,layers.10=0.81', '--epochs', '0', '--json', '--quiet']);
    expect(han.code, han.stderr).toBe(0);
    expect((han.json!['layers'] as { sparsity: number }[]).map((l) => Math.round(l.sparsity * 100))).toEqual([34, 88, 92, 81]);
    const bad = await runCli(['prune', '--model', lenet, '--layer-sparsity', 'layers.1=1.2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--layer-sparsity takes NAME=S pairs/);
  });

  it('compile runs a 90 %-pruned LeNet-5 sparse, with exactly the dense model\'s classes on the digits test split, on every backend', async () => {
    const pruned = join(dir, 'lenet5-90.safetensors');
    const prune = await runCli(['prune', '--model', lenet, '--method', 'oneshot', '--sparsity', '0.9', '--epochs', '0', '--out', pruned, '--quiet']);
    expect(prune.code, prune.stderr).toBe(0);
    for (const backend of ['js', 'wasm-simd']) {
      const result = await runCli(['compile', '--model', pruned, '--data', 'digits', '--backend', backend, '--batch', '1', '--json', '--quiet']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json!['check']).toMatchObject({ samples: 2000, mismatches: 0 });
      const layers = (result.json!['plans'] as { layers: { kernel: string; outFeatures: number; inFeatures: number }[] }[])[0]!.layers;
      // conv1 (20×25), conv2 (50×500), fc1, fc2; conv2 at 90 % runs the sparse convolution.
      expect(layers.map((l) => `${l.outFeatures}x${l.inFeatures}`)).toEqual(['20x25', '50x500', '500x800', '10x500']);
      expect(layers[1]!.kernel).toBe('csr');
    }
  }, 120_000);

  it('prune --quantize kmeans:5 with 8-bit conv codebooks, then inspect, predict, compile, export --onnx and import', async () => {
    // Deep Compression's widths: 8-bit conv, 5-bit fc codebooks. No pruning epochs, one of trained quantization.
    const quantized = join(dir, 'lenet5-q.safetensors');
    const prune = await runCli(['prune', '--model', lenet, '--method', 'oneshot', '--sparsity', '0.9', '--epochs', '0', '--quantize', 'kmeans:5,layers.1=8,layers.4=8', '--out', quantized, '--json', '--quiet']);
    expect(prune.code, prune.stderr).toBe(0);
    const stages = prune.json!['stages'] as { stage: string; bytes: number }[];
    expect(stages.map((s) => s.stage)).toEqual(['dense', 'pruned', 'quantized', 'entropy-coded']);
    for (let i = 1; i < stages.length; i++) expect(stages[i]!.bytes).toBeLessThan(stages[i - 1]!.bytes);
    const inspect = await runCli(['inspect', quantized, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const coding = new Map((inspect.json!['params'] as { name: string; coding: string }[]).map((p) => [p.name, p.coding]));
    expect(coding.get('layers.1.weight')).toMatch(/^codebook 8-bit/);
    expect(coding.get('layers.4.weight')).toMatch(/^codebook 8-bit/);
    expect(coding.get('layers.8.weight')).toMatch(/^codebook 5-bit/);
    const labels = ['--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--labels', 'data/digits/t10k-labels-idx1-ubyte.gz'];
    const predicted = await runCli(['predict', '--model', quantized, ...labels, '--json']);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.json!['accuracy']).toBeGreaterThan(0.5);
    // (The js backend on such files is covered in test/io/conv-quantized-file.test.ts; here the two WebAssembly ones.)
    for (const backend of ['wasm-simd', 'wasm-int8']) {
      const compiled = await runCli(['compile', '--model', quantized, '--data', 'digits', '--backend', backend, '--json', '--quiet']);
      expect(compiled.code, `${backend}: ${compiled.stderr}`).toBe(0);
      const check = compiled.json!['check'] as { samples: number; mismatches: number };
      // The float backends run the dequantized weights exactly; wasm-int8 rounds its fc activations to 8 bits.
      expect(check.mismatches, backend).toBeLessThanOrEqual(backend === 'wasm-int8' ? 40 : 0);
    }
    const onnx = join(dir, 'lenet5-q.onnx');
    expect((await runCli(['export', '--model', quantized, '--onnx', onnx])).code).toBe(0);
    const { test } = loadDigits();
    const batch = 200;
    const session = await InferenceSession.create(readFileSync(onnx));
    const logits = (await session.run({ x: new OrtTensor('float32', test.x.slice(0, batch * 784), [batch, 784]) }))['logits']!.data as Float32Array;
    const ours = predicted.json!['predictions'] as number[];
    for (let i = 0; i < batch; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[i * 10 + c]! > logits[i * 10 + best]!) best = c;
      expect(best, `sample ${i}`).toBe(ours[i]);
    }
    await session.release();
    // int8 (post-training) conv weights go out behind DequantizeLinear; the importer reads them back.
    const int8 = join(dir, 'lenet5-int8.safetensors');
    expect((await runCli(['quantize', '--model', quantized, '--method', 'int8', '--epochs', '0', '--out', int8, '--quiet'])).code).toBe(0);
    const int8Onnx = join(dir, 'lenet5-int8.onnx');
    expect((await runCli(['export', '--model', int8, '--onnx', int8Onnx])).code).toBe(0);
    const imported = join(dir, 'lenet5-int8-imported.safetensors');
    const back = await runCli(['import', '--from', 'onnx', int8Onnx, '--out', imported]);
    expect(back.code, back.stderr).toBe(0);
    const same = await runCli(['predict', '--model', imported, ...labels, '--json']);
    const original = await runCli(['predict', '--model', int8, ...labels, '--json']);
    expect(same.json!['predictions']).toEqual(original.json!['predictions']);
  }, 120_000);

  it('refuses an --arch that does not fit the data', async () => {
    const result = await runCli(['train', '--arch', '1x20x20-c4k5-10', '--epochs', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/starts with 400 inputs but digits/);
    const bad = await runCli(['train', '--arch', '1x28x28-q5-10', '--epochs', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown layer at 'q5'/);
  });
});
