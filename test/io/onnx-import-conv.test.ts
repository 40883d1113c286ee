/**
 * ONNX import of convolutional graphs (Conv, MaxPool, AveragePool, Flatten/Reshape between them): sparsegrad's
 * own conv export reads back to the same spec, weights and answers (dense, and with sparse conv weights kept
 * CSR); a LeNet-5 exported by torch.onnx imports and gives PyTorch's logits; and the window attributes the
 * spec cannot express are refused with typed errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { importModel } from '../../src/io/import/index.ts';
import { modelFromRecord } from '../../src/io/model-adapter.ts';
import { csrToDense } from '../../src/io/model-file.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { architectureSpec, buildModel, Conv2d, predict, Rng, type ModelSpec, type Sequential } from '../../src/index.ts';
import { specShapes } from '../../src/nn/spec-shapes.ts';
import { CONV_SPEC } from '../fixtures/model-files.ts';
import { torchPython } from '../support/torch-python.ts';
import { intAttribute, intsAttribute, model, node, valueInfo, type GraphSpec } from './onnx-builders.ts';

/** A model of `spec` with random biases and, when `prune`, 80 % of every conv weight masked. */
function prepared(spec: ModelSpec, seed: number, prune: boolean): Sequential {
  const m = buildModel(spec, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const [, p] of m.namedParameters()) if (p.value.rank === 1) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.normal() * 0.1;
  if (prune) for (const layer of m.layers) if (layer instanceof Conv2d) layer.weight.setMask(Uint8Array.from({ length: layer.weight.value.size }, () => (rng.uniform() < 0.8 ? 0 : 1)));
  return m;
}

const paramsOf = (m: Sequential): Map<string, Float32Array> => new Map(m.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));

describe('ONNX import: sparsegrad’s conv export round-trips', () => {
  it.each([
    ['the fixture conv net (padding, both pools)', CONV_SPEC, false],
    ['the fixture conv net, pruned', CONV_SPEC, true],
    ['LeNet-5, pruned', architectureSpec('lenet5'), true],
  ] as const)('%s: same spec, same weights, same answers', (_, spec, prune) => {
    const original = prepared(spec, 7, prune);
    const record = importModel(exportOnnx(original.spec(), paramsOf(original)), { from: 'onnx' });
    expect(record.spec).toEqual(original.spec());
    for (const [name, values] of paramsOf(original)) {
      const p = record.params.get(name)!;
      if (prune && name.endsWith('weight') && p.shape.length === 4) expect(p.csr, `${name} stays sparse`).toBeTruthy();
      expect(Array.from(p.csr !== undefined ? csrToDense(p.csr) : p.dense!), name).toEqual(Array.from(values));
    }
    const features = specShapes(spec).inputFeatures!;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 2 * features }, () => rng.uniform());
    expect(Array.from(predict(modelFromRecord(record), x, 2).data)).toEqual(Array.from(predict(original, x, 2).data));
  });
});

const python = torchPython();
if (python === null) console.warn('onnx-import-conv.test.ts: the PyTorch LeNet-5 case is SKIPPED — no python3 here imports torch (apt-get install python3-torch)');
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-onnx-conv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(python === null)('ONNX import: a LeNet-5 exported by torch.onnx', () => {
  it('imports (conv2 80 % pruned by torch.nn.utils.prune) and gives PyTorch’s logits', () => {
    const script = new URL('../fixtures/import/torch_lenet5.py', import.meta.url).pathname;
    const run = spawnSync(python!, [script, work], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(run.status, run.stderr).toBe(0);
    const record = importModel(new Uint8Array(readFileSync(join(work, 'lenet5.onnx'))), { from: 'onnx' });
    expect(record.spec).toEqual(architectureSpec('lenet5'));
    const conv2 = record.params.get('layers.4.weight')!.dense!; // torch.onnx writes it dense: 80 % zeros
    expect(conv2.filter((v) => v === 0).length).toBe(0.8 * conv2.length);
    const { x, logits } = JSON.parse(readFileSync(join(work, 'logits.json'), 'utf8')) as { x: number[][]; logits: number[][] };
    const ours = predict(modelFromRecord(record), Float32Array.from(x.flat()), x.length).data;
    const theirs = logits.flat();
    let worst = 0;
    for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!) / (1 + Math.abs(theirs[i]!)));
    expect(worst).toBeLessThan(1e-5); // float32 sums in another order, the same weights
  });
});

describe('ONNX import: conv graphs it refuses, with the reason', () => {
  const W = { name: 'W', dims: [2, 1, 3, 3], values: Array.from({ length: 18 }, (_, i) => i / 10) };
  const conv = (attributes: ReturnType<typeof intAttribute>[], input = 'x', output = 'c'): ReturnType<typeof node> => node('Conv', [input, 'W'], [output], attributes);
  const flattenGemm = [node('Flatten', ['c'], ['f']), node('Gemm', ['f', 'G'], ['y'], [intAttribute('transB', 1)])];
  const image = [valueInfo('x', ['N', 1, 6, 6])];
  const G = (features: number): { name: string; dims: number[]; values: number[] } => ({ name: 'G', dims: [2, features], values: new Array<number>(2 * features).fill(0.5) });
  const ints = intsAttribute;
  it.each([
    ['a dilated convolution', { nodes: [conv([ints('dilations', [2, 2])]), ...flattenGemm], initializers: [W, G(8)], inputs: image }, 'E_ONNX_UNSUPPORTED', /dilations \[2, 2\]/],
    ['ceil_mode pooling', { nodes: [node('MaxPool', ['x'], ['c'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), intAttribute('ceil_mode', 1)]), ...flattenGemm], initializers: [G(9)], inputs: image }, 'E_ONNX_UNSUPPORTED', /ceil_mode = 1/],
    ['uneven padding', { nodes: [conv([ints('pads', [1, 1, 0, 0])]), ...flattenGemm], initializers: [W, G(50)], inputs: image }, 'E_ONNX_UNSUPPORTED', /pads \[1, 1, 0, 0\] unevenly/],
    ['an average that leaves the padding out', { nodes: [node('AveragePool', ['x'], ['c'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]), ...flattenGemm], initializers: [G(36)], inputs: image }, 'E_ONNX_UNSUPPORTED', /count_include_pad = 0/],
    ['a kernel_shape the weight does not have', { nodes: [conv([ints('kernel_shape', [2, 2])]), ...flattenGemm], initializers: [W, G(32)], inputs: image }, 'E_BAD_SHAPE', /kernel_shape \[2, 2\] but its weight is 3×3/],
    ['a weight for other channels', { nodes: [conv([])], initializers: [W], inputs: [valueInfo('x', ['N', 3, 6, 6])] }, 'E_BAD_SHAPE', /does not fit an input of 3 channels/],
    ['a window larger than the image', { nodes: [conv([]), ...flattenGemm], initializers: [W, G(8)], inputs: [valueInfo('x', ['N', 1, 2, 2])] }, 'E_BAD_SHAPE', /window does not fit/],
    ['an image of unknown size', { nodes: [conv([]), ...flattenGemm], initializers: [W, G(32)], inputs: [valueInfo('x', ['N', 1, 'H', 'W'])] }, 'E_ONNX_UNSUPPORTED', /fixed channels, height and width/],
    ['a Gemm straight after a Conv', { nodes: [conv([]), node('Gemm', ['c', 'G'], ['y'], [intAttribute('transB', 1)])], initializers: [W, G(32)], inputs: image }, 'E_ONNX_UNSUPPORTED', /rank-4 tensor; a Flatten or Reshape/],
  ] as [string, GraphSpec, string, RegExp][])('%s', (_, graph, code, message) => {
    let error: unknown;
    try {
      importModel(model(graph), { from: 'onnx' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).code).toBe(code);
    expect((error as ModelFormatError).message).toMatch(message);
  });
});
