/**
 * ONNX export of convolutional models (Reshape, Conv, MaxPool, AveragePool, Flatten nodes): onnxruntime-node
 * runs the exported file and its logits match sparsegrad's own forward pass (float32 both sides, so within
 * float32 rounding of the sums), at batch 1 and 5, dense and with pruned (sparse-initializer) conv weights;
 * the nodes and attributes are the ones the layers mean.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { architectureSpec, buildModel, Conv2d, predict, Rng, type ModelSpec, type Sequential } from '../../src/index.ts';
import { specShapes } from '../../src/nn/spec-shapes.ts';
import { CONV_SPEC } from '../fixtures/model-files.ts';

function paramsOf(model: Sequential): Map<string, Float32Array> {
  return new Map(model.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
}

/** Random biases (the layers start at 0) and, optionally, every other conv weight pruned. */
function prepare(spec: ModelSpec, seed: number, prune: boolean): Sequential {
  const model = buildModel(spec, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const [, p] of model.namedParameters()) if (p.value.rank === 1) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.normal() * 0.1;
  if (prune) {
    for (const layer of model.layers) {
      if (layer instanceof Conv2d) layer.weight.setMask(Uint8Array.from({ length: layer.weight.value.size }, () => (rng.uniform() < 0.8 ? 0 : 1)));
    }
  }
  return model;
}

async function checkAgainstOrt(spec: ModelSpec, seed: number, prune: boolean): Promise<void> {
  const model = prepare(spec, seed, prune);
  const bytes = exportOnnx(model.spec(), paramsOf(model));
  const features = specShapes(spec).inputFeatures!;
  const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const inMeta = session.inputMetadata[0]!;
    expect(inMeta.isTensor && inMeta.shape).toEqual(['batch', features]);
    const rng = new Rng(seed + 2);
    for (const batch of [1, 5]) {
      const x = Float32Array.from({ length: batch * features }, () => rng.uniform());
      const got = (await session.run({ x: new Tensor('float32', x, [batch, features]) }))['logits']!;
      const expected = predict(model, x, batch);
      expect(got.dims).toEqual(expected.shape);
      let scale = 0;
      let error = 0;
      expected.data.forEach((v, i) => {
        scale = Math.max(scale, Math.abs(v));
        error = Math.max(error, Math.abs(v - (got.data as Float32Array)[i]!));
      });
      expect(error / scale).toBeLessThan(2e-5);
    }
  } finally {
    await session.release();
  }
}

describe('exportOnnx with convolutions: onnxruntime-node runs the file', () => {
  const MODELS: [string, ModelSpec][] = [
    ['LeNet-5', architectureSpec('lenet5')],
    ['padding, stride, average pooling with zero padding counted', architectureSpec('2x9x7-c4k3s2p1-a3s1p1-c5k2x3-m2-6', 'tanh')],
    ['CONV_SPEC (conv without bias, 1×1 average pool)', CONV_SPEC],
    ['grouped convolution', {
      layers: [
        { type: 'reshape', shape: [4, 6, 6] },
        { type: 'conv2d', inChannels: 4, outChannels: 6, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], groups: 2, bias: true },
        { type: 'relu' }, { type: 'flatten' }, { type: 'linear', inFeatures: 216, outFeatures: 3, bias: true },
      ],
    }],
  ];
  for (const [name, spec] of MODELS) {
    for (const prune of [false, true]) {
      it(`${name}${prune ? ', 80 % of conv weights pruned (sparse initializers)' : ''}`, async () => {
        await checkAgainstOrt(spec, 11, prune);
      });
    }
  }

  it('writes the nodes the layers mean, and refuses specs that do not chain', () => {
    const model = prepare(architectureSpec('lenet5'), 1, false);
    const text = Buffer.from(exportOnnx(model.spec(), paramsOf(model))).toString('latin1');
    for (const op of ['Reshape', 'Conv', 'MaxPool', 'Flatten', 'Gemm', 'kernel_shape', 'strides', 'pads', 'group']) expect(text).toContain(op);
    const bad: ModelSpec = { layers: [{ type: 'reshape', shape: [1, 4, 4] }, { type: 'flatten' }, { type: 'linear', inFeatures: 15, outFeatures: 2, bias: true }] };
    expect(() => exportOnnx(bad, new Map([['layers.2.weight', new Float32Array(30)], ['layers.2.bias', new Float32Array(2)]]))).toThrow(ShapeError);
  });
});
