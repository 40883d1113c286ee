import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializeModel } from '../../src/io/model-file.ts';
import { loadDigits } from '../../src/node/data.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-quantize-'));
const model = join(dir, 'model.safetensors');
const quantized = join(dir, 'q.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-64-10', '--epochs', '3', '--batch', '64', '--seed', '3', '--out', model, '--json', '--quiet']);
  expect(result.code, result.stderr).toBe(0);
});

describe('sparsegrad prune --quantize, then inspect, predict, compile, export', () => {
  it('prunes and quantizes (kmeans:5), reporting the size after each stage', async () => {
    const result = await runCli(['prune', '--model', model, '--data', 'digits', '--method', 'gradual', '--sparsity', '0.95', '--epochs', '2', '--quantize', 'kmeans:5', '--out', quantized, '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const stages = result.json!['stages'] as { stage: string; bytes: number; ratio: number }[];
    expect(stages.map((s) => s.stage)).toEqual(['dense', 'pruned', 'quantized', 'entropy-coded']);
    for (let i = 1; i < stages.length; i++) expect(stages[i]!.bytes).toBeLessThanOrEqual(stages[i - 1]!.bytes);
    expect(stages[3]!.ratio).toBeGreaterThan(30);
    expect(result.json!['testAccuracy']).toBeGreaterThan(0.7);
    const record = deserializeModel(readFileSync(quantized));
    const weight = record.params.get('layers.0.weight')!;
    expect(weight.quantized?.kind).toBe('codebook');
    if (weight.quantized?.kind === 'codebook') expect(weight.quantized.codebook.length).toBeLessThanOrEqual(32);
  });

  it('inspect shows each tensor’s coding and bytes', async () => {
    const result = await runCli(['inspect', quantized, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const params = result.json!['params'] as { name: string; coding: string; storedBytes: number }[];
    expect(params.find((p) => p.name === 'layers.0.weight')!.coding).toMatch(/^codebook 5-bit.*gaps \d-bit/);
    const text = await runCli(['inspect', quantized]);
    expect(text.stdout).toMatch(/bytes stored/);
    expect(text.stdout).toMatch(/codebook 5-bit/);
  });

  it('predict, compile --data digits and export --onnx work on the quantized file', async () => {
    const predicted = await runCli(['predict', '--model', quantized, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--labels', 'data/digits/t10k-labels-idx1-ubyte.gz', '--json']);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.json!['accuracy']).toBeGreaterThan(0.7);
    const compiled = await runCli(['compile', '--model', quantized, '--data', 'digits', '--json']);
    expect(compiled.code, compiled.stderr).toBe(0);
    const onnx = join(dir, 'q.onnx');
    expect((await runCli(['export', '--model', quantized, '--onnx', onnx])).code).toBe(0);
    const session = await InferenceSession.create(readFileSync(onnx));
    const test = loadDigits().test;
    const batch = 50;
    const output = await session.run({ [session.inputNames[0]!]: new OrtTensor('float32', test.x.slice(0, batch * 784), [batch, 784]) });
    const logits = output[session.outputNames[0]!]!.data as Float32Array;
    let agree = 0;
    const ours = (predicted.json!['predictions'] as number[] | undefined) ?? null;
    for (let s = 0; s < batch; s++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[s * 10 + c]! > logits[s * 10 + best]!) best = c;
      if (ours === null ? best === test.y[s] : best === ours[s]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(ours === null ? 35 : batch);
  });

  it('compare --quantize gives every row the size after each stage and draws accuracy against log-scale bytes', async () => {
    const paths = ['c.json', 'c.svg', 'cc.svg'].map((name) => join(dir, name));
    const result = await runCli(['compare', '--model', model, '--methods', 'oneshot', '--criteria', 'magnitude', '--sparsities', '0.9', '--epochs', '1', '--quantize', 'kmeans:4',
      '--out-json', paths[0]!, '--out-svg', paths[1]!, '--out-compression-svg', paths[2]!, '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const row = (result.json!['rows'] as { testAccuracy: number; compression: { stages: { dense: number; pruned: number; quantized: number; entropyCoded: number }; testAccuracy: number } }[])[0]!;
    expect(row.compression.stages.quantized).toBeLessThan(row.compression.stages.pruned);
    expect(row.compression.stages.entropyCoded).toBeLessThanOrEqual(row.compression.stages.quantized);
    expect(row.compression.testAccuracy).toBeGreaterThan(0.5);
    expect(readFileSync(paths[2]!, 'utf8')).toContain('file size (bytes, log scale)');
    expect((await runCli(['compare', '--model', model, '--quantize', 'kmeans:0'])).code).toBe(2);
  });

  it('quantize --layer-bits gives one layer its own codebook width (Deep Compression’s per-layer bits)', async () => {
    const out = join(dir, 'layer-bits.safetensors');
    const run = await runCli(['quantize', '--model', model, '--method', 'kmeans', '--bits', '5', '--layer-bits', 'layers.0=3', '--epochs', '0', '--out', out, '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json!['layerBits']).toEqual({ 'layers.0': 3 });
    const params = deserializeModel(readFileSync(out)).params;
    const widths = ['layers.0.weight', 'layers.2.weight'].map((name) => {
      const q = params.get(name)!.quantized!;
      return q.kind === 'codebook' ? q.bits : null;
    });
    expect(widths).toEqual([3, 5]);
    const unknown = await runCli(['quantize', '--model', model, '--method', 'kmeans', '--layer-bits', 'fc9=3', '--epochs', '0', '--quiet']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/'fc9', which is no quantizable weight/);
  });

  it('quantize --method int8 with QAT and 0-epoch PTQ; bad flags are usage errors', async () => {
    const out = join(dir, 'int8.safetensors');
    const qat = await runCli(['quantize', '--model', model, '--method', 'int8', '--epochs', '1', '--out', out, '--json', '--quiet']);
    expect(qat.code, qat.stderr).toBe(0);
    expect(Math.abs((qat.json!['testAccuracy'] as number) - (qat.json!['floatTestAccuracy'] as number))).toBeLessThan(0.02);
    expect(deserializeModel(readFileSync(out)).params.get('layers.0.weight')!.quantized?.kind).toBe('int8');
    const exported = await runCli(['export', '--model', out, '--onnx', join(dir, 'int8.onnx'), '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json!['int8Weights']).toEqual(['layers.0.weight', 'layers.2.weight']); // behind DequantizeLinear
    const ptq = await runCli(['quantize', '--model', model, '--method', 'kmeans', '--bits', '3', '--epochs', '0', '--json', '--quiet']);
    expect(ptq.code, ptq.stderr).toBe(0);
    expect((await runCli(['quantize', '--model', model, '--method', 'int4'])).code).toBe(2);
    expect((await runCli(['quantize', '--model', model, '--method', 'int8', '--bits', '4'])).code).toBe(2);
    expect((await runCli(['prune', '--model', model, '--quantize', 'kmeans:9'])).code).toBe(2);
    expect((await runCli(['prune', '--model', model, '--quantize', 'kmeans:4,layers.0=9'])).code).toBe(2);
    expect((await runCli(['prune', '--model', model, '--quantize', 'kmeans:4,layers.0=3,layers.0=2'])).code).toBe(2);
    expect((await runCli(['quantize', '--model', model, '--method', 'int8', '--layer-bits', 'layers.0=3'])).code).toBe(2);
    expect((await runCli(['prune', '--model', model, '--entropy', 'none'])).code).toBe(2);
  });
});
