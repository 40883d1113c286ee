import { ConfigError } from '../errors.ts';
import { Rng } from '../tensor/rng.ts';
import { Dropout, ReLU, Sigmoid, Tanh } from './activations.ts';
import { Conv2d } from './conv.ts';
import type { InitScheme } from './init.ts';
import { Linear } from './linear.ts';
import type { Layer } from './module.ts';
import { AvgPool2d, MaxPool2d } from './pool.ts';
import { Sequential } from './sequential.ts';
import { Flatten, Reshape } from './shape-layers.ts';
import { LAYER_TYPES, type ModelSpec } from './spec.ts';

export type Activation = 'relu' | 'sigmoid' | 'tanh';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh'];

/** Builds a Sequential from its plain-data description, with freshly initialised weights. */
export function buildModel(spec: ModelSpec, rng: Rng, init: InitScheme = 'he'): Sequential {
  const layers: Layer[] = spec.layers.map((layer, i) => {
    switch (layer.type) {
      case 'linear':
        return new Linear(layer.inFeatures, layer.outFeatures, { rng, bias: layer.bias, init });
      case 'relu':
        return new ReLU();
      case 'sigmoid':
        return new Sigmoid();
      case 'tanh':
        return new Tanh();
      case 'dropout':
        return new Dropout(layer.p, rng.fork());
      case 'conv2d':
        return new Conv2d(layer.inChannels, layer.outChannels, layer.kernelSize, { rng, stride: layer.stride, padding: layer.padding, groups: layer.groups, bias: layer.bias, init });
      case 'maxpool2d':
        return new MaxPool2d(layer.kernelSize, { stride: layer.stride, padding: layer.padding });
      case 'avgpool2d':
        return new AvgPool2d(layer.kernelSize, { stride: layer.stride, padding: layer.padding });
      case 'flatten':
        return new Flatten();
      case 'reshape':
        return new Reshape(layer.shape);
      default:
        throw new ConfigError(`layer ${i}: unknown type '${(layer as { type: string }).type}' (expected one of ${LAYER_TYPES.join(', ')})`);
    }
  });
  return new Sequential(...layers);
}

/**
 * The spec of a multi-layer perceptron from its layer widths: `mlpSpec([784, 300, 100, 10])` is
 * LeNet-300-100 — Linear layers with an activation between them and none after the last (logits out).
 */
export function mlpSpec(widths: readonly number[], activation: Activation = 'relu'): ModelSpec {
  if (widths.length < 2) throw new ConfigError(`an MLP needs at least an input and an output width, got [${widths.join(', ')}]`);
  for (const w of widths) {
    if (!Number.isSafeInteger(w) || w <= 0) throw new ConfigError(`MLP widths must be positive integers, got ${w} in [${widths.join(', ')}]`);
  }
  if (!ACTIVATIONS.includes(activation)) throw new ConfigError(`unknown activation '${activation}' (expected one of ${ACTIVATIONS.join(', ')})`);
  const layers: ModelSpec['layers'][number][] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push({ type: 'linear', inFeatures: widths[i]!, outFeatures: widths[i + 1]!, bias: true });
    if (i + 2 < widths.length) layers.push({ type: activation });
  }
  return { layers };
}

/** Parses an architecture string such as "784-300-100-10". */
export function parseArchitecture(text: string): number[] {
  const parts = text.split('-');
  const widths = parts.map((p) => Number(p));
  if (parts.length < 2 || widths.some((w) => !Number.isSafeInteger(w) || w <= 0)) {
    throw new ConfigError(`architecture '${text}' is not a list of positive layer widths such as 784-300-100-10`);
  }
  return widths;
}

/** An MLP with fresh weights from `seed`. */
export function mlp(widths: readonly number[], options: { seed?: number; rng?: Rng; activation?: Activation; init?: InitScheme } = {}): Sequential {
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  return buildModel(mlpSpec(widths, options.activation ?? 'relu'), rng, options.init ?? 'he');
}
