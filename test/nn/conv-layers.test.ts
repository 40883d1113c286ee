/**
 * The convolutional layers (Conv2d, MaxPool2d, AvgPool2d, Flatten, Reshape), the architecture grammar of
 * `--arch`, shape inference over a spec, and a small convolutional net that learns on both backends.
 */
import { describe, expect, it } from 'vitest';
import { constant } from '../../src/autograd/var.ts';
import { ConfigError } from '../../src/errors.ts';
import { loadDigits } from '../../src/node/data.ts';
import {
  Adam, architectureSpec, AvgPool2d, buildModel, cloneModel, Conv2d, evaluate, fit, Flatten, formatLayer, layerFlops, MaxPool2d,
  mlpSpec, Reshape, Rng, Sequential, specShapes, subset, tensor, withBackend,
} from '../../src/index.ts';
import { referenceConv2d, referencePool2d } from '../reference/conv.ts';

describe('architecture strings', () => {
  it('lenet5 is LeNet-5-Caffe: 431,080 parameters, ReLU after the convolutions and fc1', () => {
    const spec = architectureSpec('lenet5');
    expect(spec.layers.map(formatLayer).join(' → ')).toBe(
      'reshape([1, 28, 28]) → conv2d(1→20, 5×5) → relu → maxpool2d(2×2) → conv2d(20→50, 5×5) → relu → maxpool2d(2×2) → flatten → linear(800→500) → relu → linear(500→10)',
    );
    expect(buildModel(spec, new Rng(0)).parameterCount()).toBe(431080);
    expect(specShapes(spec).outputs.map((s) => s?.join('x'))).toEqual(['1x28x28', '20x24x24', '20x24x24', '20x12x12', '50x8x8', '50x8x8', '50x4x4', '800', '500', '500', '10']);
    // 2·(20·25·576 + 50·500·64 + 800·500 + 500·10) multiply-adds
    expect(layerFlops(spec).reduce((a, b) => a + b, 0)).toBe(2 * (20 * 25 * 576 + 50 * 500 * 64 + 800 * 500 + 500 * 10));
  });

  it('a list of widths is the MLP it always was', () => {
    expect(architectureSpec('784-300-100-10')).toEqual(mlpSpec([784, 300, 100, 10]));
    expect(architectureSpec('lenet300', 'tanh')).toEqual(mlpSpec([784, 300, 100, 10], 'tanh'));
  });

  it('reads strides, padding, rectangular kernels and average pooling', () => {
    const spec = architectureSpec('3x9x9-c4k3x2s2p1-a2s1-m3s2p1-7', 'tanh');
    expect(spec.layers.map(formatLayer)).toEqual([
      'reshape([3, 9, 9])', 'conv2d(3→4, 3×2, stride 2×2, padding 1×1)', 'tanh', 'avgpool2d(2×2, stride 1×1)', 'maxpool2d(3×3, stride 2×2, padding 1×1)', 'flatten', 'linear(16→7)',
    ]);
    expect(specShapes(spec).outputs.at(-1)).toEqual([7]);
  });

  it('refuses what does not parse or fit, naming the token or the layer', () => {
    expect(() => architectureSpec('784-c20k5-10')).toThrow(/need images.*at 'c20k5'/);
    expect(() => architectureSpec('1x28x28-c20-10')).toThrow(/sizes must be integers/);
    expect(() => architectureSpec('1x28x28-x5-10')).toThrow(/unknown layer at 'x5'/);
    expect(() => architectureSpec('1x4x4-c2k5-10')).toThrow(/5×5 window does not fit its 4×4 input/);
    expect(() => architectureSpec('1x28-10')).toThrow(/the input is a width/);
    expect(() => architectureSpec('784')).toThrow(/needs an input and at least one layer/);
    expect(() => architectureSpec('784-0-10')).toThrow(ConfigError);
  });

  it('specShapes names the layer that does not fit', () => {
    const conv = { type: 'conv2d' as const, inChannels: 1, outChannels: 2, kernelSize: [3, 3] as [number, number], stride: [1, 1] as [number, number], padding: [0, 0] as [number, number], groups: 1, bias: true };
    expect(() => specShapes({ layers: [conv] })).toThrow(/start the model with a reshape layer/);
    expect(() => specShapes({ layers: [{ type: 'reshape', shape: [2, 5, 5] }, conv] })).toThrow(/takes 1 channels but gets \[2, 5, 5\]/);
    expect(() => specShapes({ layers: [{ type: 'reshape', shape: [1, 5, 5] }, conv, { type: 'linear', inFeatures: 18, outFeatures: 2, bias: true }] })).toThrow(/put a flatten layer before it/);
    expect(() => specShapes({ layers: [{ type: 'linear', inFeatures: 4, outFeatures: 6, bias: true }, { type: 'reshape', shape: [1, 2, 2] }] })).toThrow(/needs 4 values per sample but gets \[6\]/);
    expect(specShapes({ layers: [{ type: 'relu' }, { type: 'linear', inFeatures: 4, outFeatures: 2, bias: true }] }).inputFeatures).toBe(4);
  });
});

describe('the layers', () => {
  it('Conv2d computes the convolution of its weights, and its spec rebuilds it', () => {
    const rng = new Rng(3);
    const conv = new Conv2d(2, 3, [3, 2], { rng, stride: [2, 1], padding: 1 });
    expect(conv.weight.value.shape).toEqual([3, 2, 3, 2]);
    expect(conv.spec()).toEqual({ type: 'conv2d', inChannels: 2, outChannels: 3, kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], groups: 1, bias: true });
    conv.bias!.value.data.set([0.5, -1, 2]);
    const x = tensor(Array.from({ length: 2 * 2 * 5 * 4 }, (_, i) => Math.sin(i)), [2, 2, 5, 4]);
    const y = conv.forward(constant(x)).value;
    const expected = referenceConv2d(
      { batch: 2, channels: 2, height: 5, width: 4, outChannels: 3, kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padH: 1, padW: 1, groups: 1 },
      x.data, conv.weight.value.data, conv.bias!.value.data,
    );
    expect(y.shape).toEqual([2, 3, 3, 5]);
    y.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const rebuilt = buildModel({ layers: [conv.spec()] }, new Rng(0)).layers[0] as Conv2d;
    expect(rebuilt.spec()).toEqual(conv.spec());
    expect(() => new Conv2d(3, 4, 3, { rng, groups: 2 })).toThrow(/groups must be a positive integer dividing/);
    expect(() => new Conv2d(0, 4, 3, { rng })).toThrow(ConfigError);
  });

  it('pooling, flatten and reshape layers do what their ops do', () => {
    const x = tensor(Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => Math.cos(i * 1.3)), [2, 3, 4, 4]);
    const max = new MaxPool2d(2).forward(constant(x)).value;
    expect(Array.from(max.data)).toEqual(Array.from(referencePool2d('max', 6, 4, 4, [2, 2], [2, 2], [0, 0], x.data), Math.fround));
    const avg = new AvgPool2d(3, { stride: 1, padding: 1 }).forward(constant(x)).value;
    referencePool2d('avg', 6, 4, 4, [3, 3], [1, 1], [1, 1], x.data).forEach((v, i) => expect(avg.data[i]).toBeCloseTo(v, 6));
    expect(new Flatten().forward(constant(x)).shape).toEqual([2, 48]);
    expect(new Reshape([3, 16]).forward(constant(x)).shape).toEqual([2, 3, 16]);
    expect(() => new Reshape([0])).toThrow(ConfigError);
    expect(new MaxPool2d([2, 1], { padding: [1, 0] }).spec()).toEqual({ type: 'maxpool2d', kernelSize: [2, 1], stride: [2, 1], padding: [1, 0] });
  });

  it('cloneModel copies a convolutional model, masks included', () => {
    const model = buildModel(architectureSpec('1x8x8-c3k3-m2-5'), new Rng(1));
    const conv = model.layers[1] as Conv2d;
    conv.weight.setMask(Uint8Array.from({ length: conv.weight.value.size }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    const copy = cloneModel(model);
    expect(copy.spec()).toEqual(model.spec());
    expect((copy.layers[1] as Conv2d).weight.mask).toEqual(conv.weight.mask);
    expect(Array.from((copy.layers[1] as Conv2d).weight.value.data)).toEqual(Array.from(conv.weight.value.data));
  });
});

describe('a small convolutional net learns', () => {
  const { train, test } = loadDigits();
  const small = subset(train, Int32Array.from({ length: 600 }, (_, i) => i), 'digits (600)');
  for (const backend of ['js', 'wasm-simd'] as const) {
    it(`on ${backend}: two epochs on 600 digits lift test accuracy well above chance`, () => {
      const model = buildModel(architectureSpec('1x28x28-c6k5-m2-c12k5-m2-10'), new Rng(0)) as Sequential;
      const history = fit(model, small, { epochs: 2, batchSize: 50, optimizer: new Adam(model.parameters(), { lr: 3e-3 }), seed: 0, backend });
      expect(history.backend).toBe(backend);
      expect(history.epochs[1]!.loss).toBeLessThan(history.epochs[0]!.loss);
      expect(withBackend(backend, () => evaluate(model, test)).accuracy).toBeGreaterThan(0.6);
    });
  }
});
