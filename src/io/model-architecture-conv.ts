/**
 * The convolutional layers of a model file's architecture (conv2d, maxpool2d, avgpool2d, flatten, reshape):
 * checking them from an untrusted source, their parameters, and their canonical JSON. Part of the model
 * file format, next to model-architecture.ts (which handles linear layers and activations and calls these).
 */
import type { Conv2dSpec, LayerSpec, Pool2dSpec } from '../nn/spec.ts';

/** The layer types of this file. */
export const IMAGE_LAYER_TYPES: readonly string[] = ['conv2d', 'maxpool2d', 'avgpool2d', 'flatten', 'reshape'];

const MAX_INT32 = 2 ** 31 - 1;
/** Largest rank of a reshape target (per sample). */
const MAX_RESHAPE_RANK = 8;

function sameKeys(object: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(object);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(object, key));
}

/**
 * A checked copy of one image layer `raw` (layer i). `fail` throws the file format's error with its message.
 * Sizes are integers below 2^31; windows are [height, width] pairs; pooling padding is at most half the
 * window; conv2d groups divide both channel counts.
 */
export function validateImageLayer(raw: Record<string, unknown>, i: number, fail: (message: string) => never): LayerSpec {
  const type = raw['type'] as string;
  const show = (v: unknown): string => JSON.stringify(v) ?? String(v);
  const int = (field: string, min: number): number => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > MAX_INT32) fail(`${type} layer ${i} has ${field} ${show(v)}; it must be an integer from ${min} below 2^31`);
    return v as number;
  };
  const pair = (field: string, min: number): [number, number] => {
    const v = raw[field];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= min && d <= MAX_INT32)) {
      fail(`${type} layer ${i} has ${field} ${show(v)}; it must be a [height, width] pair of integers ≥ ${min}`);
    }
    return [(v as number[])[0]!, (v as number[])[1]!];
  };
  if (type === 'flatten') {
    if (!sameKeys(raw, ['type'])) fail(`flatten layer ${i} must have only a "type" field`);
    return { type: 'flatten' };
  }
  if (type === 'reshape') {
    if (!sameKeys(raw, ['type', 'shape'])) fail(`reshape layer ${i} must have exactly type, shape`);
    const shape = raw['shape'];
    if (!Array.isArray(shape) || shape.length === 0 || shape.length > MAX_RESHAPE_RANK || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d > 0 && d <= MAX_INT32)) {
      fail(`reshape layer ${i} has shape ${show(shape)}; it must list 1 to ${MAX_RESHAPE_RANK} positive integers`);
    }
    if ((shape as number[]).reduce((a, b) => a * b, 1) > MAX_INT32) fail(`reshape layer ${i} has shape ${show(shape)}, more than 2^31 values per sample`);
    return { type: 'reshape', shape: [...(shape as number[])] };
  }
  if (type === 'conv2d') {
    if (!sameKeys(raw, ['type', 'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'groups', 'bias'])) {
      fail(`conv2d layer ${i} must have exactly type, inChannels, outChannels, kernelSize, stride, padding, groups, bias`);
    }
    const inChannels = int('inChannels', 1);
    const outChannels = int('outChannels', 1);
    const groups = int('groups', 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) fail(`conv2d layer ${i} has ${groups} groups, which must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    const bias = raw['bias'];
    if (typeof bias !== 'boolean') fail(`conv2d layer ${i} has bias ${show(bias)}; it must be true or false`);
    const conv: Conv2dSpec = { type: 'conv2d', inChannels, outChannels, kernelSize: pair('kernelSize', 1), stride: pair('stride', 1), padding: pair('padding', 0), groups, bias: bias as boolean };
    return conv;
  }
  if (!sameKeys(raw, ['type', 'kernelSize', 'stride', 'padding'])) fail(`${type} layer ${i} must have exactly type, kernelSize, stride, padding`);
  const pool: Pool2dSpec = { type: type as Pool2dSpec['type'], kernelSize: pair('kernelSize', 1), stride: pair('stride', 1), padding: pair('padding', 0) };
  if (2 * pool.padding[0] > pool.kernelSize[0] || 2 * pool.padding[1] > pool.kernelSize[1]) fail(`${type} layer ${i} has padding ${show(pool.padding)}, more than half its ${show(pool.kernelSize)} window`);
  return pool;
}

/** The parameters a conv2d layer declares (weight, bias), in entries; 0 for the other image layers. */
export function imageLayerParameters(layer: LayerSpec): number {
  if (layer.type !== 'conv2d') return 0;
  return layer.outChannels * (layer.inChannels / layer.groups) * layer.kernelSize[0] * layer.kernelSize[1] + (layer.bias ? layer.outChannels : 0);
}

/** Parameter name → shape of a conv2d layer i (nothing for the other image layers). */
export function imageLayerShapes(layer: LayerSpec, i: number, shapes: Map<string, readonly number[]>): void {
  if (layer.type !== 'conv2d') return;
  shapes.set(`layers.${i}.weight`, [layer.outChannels, layer.inChannels / layer.groups, layer.kernelSize[0], layer.kernelSize[1]]);
  if (layer.bias) shapes.set(`layers.${i}.bias`, [layer.outChannels]);
}

/** The canonical JSON of an image layer (fixed key order), or null for other layer types. */
export function imageLayerJson(layer: LayerSpec): string | null {
  const pair = (p: readonly [number, number]): string => `[${p[0]},${p[1]}]`;
  switch (layer.type) {
    case 'flatten': return '{"type":"flatten"}';
    case 'reshape': return `{"type":"reshape","shape":[${layer.shape.join(',')}]}`;
    case 'conv2d':
      return `{"type":"conv2d","inChannels":${layer.inChannels},"outChannels":${layer.outChannels},"kernelSize":${pair(layer.kernelSize)},` +
        `"stride":${pair(layer.stride)},"padding":${pair(layer.padding)},"groups":${layer.groups},"bias":${layer.bias}}`;
    case 'maxpool2d':
    case 'avgpool2d':
      return `{"type":"${layer.type}","kernelSize":${pair(layer.kernelSize)},"stride":${pair(layer.stride)},"padding":${pair(layer.padding)}}`;
    default: return null;
  }
}
