import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializeModel } from '../../src/io/model-file.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { loadDigits } from '../../src/node/data.ts';
import { roundToFloat16 } from '../../src/tensor/float16.ts';
import { splitFile } from '../fixtures/model-files.ts';
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

  it('quantize --float16 stores biases and centroids in float16: the same run, rounded, in a smaller file', async () => {
    const plainOut = join(dir, 'k4.safetensors');
    const halfOut = join(dir, 'k4-f16.safetensors');
    const args = ['quantize', '--model', model, '--method', 'kmeans', '--bits', '4', '--epochs', '1', '--json', '--quiet'];
    const plain = await runCli([...args, '--out', plainOut]);
    const half = await runCli([...args, '--float16', '--out', halfOut]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(half.code, half.stderr).toBe(0);
    expect(half.json!['float16']).toBe(true);
    expect(plain.json!).not.toHaveProperty('float16');
    const plainRecord = deserializeModel(readFileSync(plainOut));
    const halfRecord = deserializeModel(readFileSync(halfOut));
    expect((halfRecord.training!['quantize'] as Record<string, unknown>)['float16']).toBe(true);
    // The fine-tuning ran exactly as without --float16: the file holds its biases and centroids rounded.
    for (const [name, param] of halfRecord.params) {
      const before = plainRecord.params.get(name)!;
      if (param.shape.length === 1) expect(Array.from(param.dense!), name).toEqual(Array.from(before.dense!, roundToFloat16));
      const q = param.quantized;
      if (q?.kind === 'codebook' && before.quantized?.kind === 'codebook') expect(Array.from(q.codebook), name).toEqual(Array.from(before.quantized.codebook, roundToFloat16));
    }
    const tensors = decodeSafetensors(readFileSync(halfOut)).tensors;
    const halves = [...tensors].filter(([, t]) => t.dtype === 'F16').map(([name]) => name).sort();
    expect(halves).toEqual(['layers.0.bias', 'layers.0.weight.codebook', 'layers.2.bias', 'layers.2.weight.codebook']);
    // 2 bytes saved per bias and centroid; the file's reported size and stages see it.
    const halfValues = halves.reduce((n, name) => n + tensors.get(name)!.data.length, 0);
    expect(splitFile(readFileSync(plainOut)).data.length - splitFile(readFileSync(halfOut)).data.length).toBe(2 * halfValues);
    expect(half.json!['fileBytes']).toBe(readFileSync(halfOut).length);
    const entropyCoded = (run: typeof plain): number => (run.json!['stages'] as { stage: string; bytes: number }[]).find((s) => s.stage === 'entropy-coded')!.bytes;
    expect(entropyCoded(plain) - entropyCoded(half)).toBeGreaterThan(2 * halfValues - 16);
    expect(Math.abs((half.json!['testAccuracy'] as number) - (plain.json!['testAccuracy'] as number))).toBeLessThan(0.01);
  });

  it('prune and compare pass ,f16 through to the quantizer, and record it', async () => {
    const out = join(dir, 'pruned-f16.safetensors');
    const pruned = await runCli(['prune', '--model', model, '--method', 'oneshot', '--sparsity', '0.9', '--epochs', '1', '--quantize', 'kmeans:4,layers.0=3,f16', '--quantize-epochs', '0', '--out', out, '--json', '--quiet']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.json!['quantize']).toMatchObject({ method: 'kmeans', bits: 4, layerBits: { 'layers.0': 3 }, float16: true });
    expect(deserializeModel(readFileSync(out)).training!['quantize']).toMatchObject({ float16: true });
    expect(decodeSafetensors(readFileSync(out)).tensors.get('layers.0.bias')!.dtype).toBe('F16');
    const paths = ['cf.json', 'cf.svg', 'cfc.svg'].map((name) => join(dir, name));
    const compared = await runCli(['compare', '--model', model, '--methods', 'oneshot', '--criteria', 'magnitude', '--sparsities', '0.9', '--epochs', '1', '--quantize', 'kmeans:4,f16', '--quantize-epochs', '0',
      '--out-json', paths[0]!, '--out-svg', paths[1]!, '--out-compression-svg', paths[2]!, '--json', '--quiet']);
    expect(compared.code, compared.stderr).toBe(0);
    const withHalves = (compared.json!['rows'] as { compression: { stages: { entropyCoded: number } } }[])[0]!.compression.stages.entropyCoded;
    // The same pruned model (same seed) quantized without f16 makes a file larger by about 2 bytes per bias.
    const plainPaths = ['cp.json', 'cp.svg', 'cpc.svg'].map((name) => join(dir, name));
    const plain = await runCli(['compare', '--model', model, '--methods', 'oneshot', '--criteria', 'magnitude', '--sparsities', '0.9', '--epochs', '1', '--quantize', 'kmeans:4', '--quantize-epochs', '0',
      '--out-json', plainPaths[0]!, '--out-svg', plainPaths[1]!, '--out-compression-svg', plainPaths[2]!, '--json', '--quiet']);
    expect(plain.code, plain.stderr).toBe(0);
    const withoutHalves = (plain.json!['rows'] as { compression: { stages: { entropyCoded: number } } }[])[0]!.compression.stages.entropyCoded;
    expect(withoutHalves - withHalves).toBeGreaterThan(2 * 74 - 16);
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
    expect((await runCli(['prune', '--model', model, '--quantize', 'kmeans:4,F16'])).code).toBe(2);
    expect((await runCli(['prune', '--model', model, '--quantize', 'kmeans:4,f16,f16'])).code).toBe(2);
  });
});
