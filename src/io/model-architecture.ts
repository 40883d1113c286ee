/**
 * The model architecture as a file states it (`__metadata__.model`): checking a spec from an untrusted source,
 * the parameters it implies, and its canonical JSON. Part of the model file format (model-file.ts).
 */

import { ModelFormatError } from '../errors.ts';
import type { LayerSpec, ModelSpec } from '../nn/spec.ts';
import { LAYER_TYPES } from '../nn/spec.ts';
import { specShapes } from '../nn/spec-shapes.ts';
import { IMAGE_LAYER_TYPES, imageLayerJson, imageLayerParameters, imageLayerShapes, validateImageLayer } from './model-architecture-conv.ts';
import type { ModelLimits } from './model-file.ts';

/** Largest total parameter count an architecture may declare by default: 2^26 (256 MiB of F32). */
export const DEFAULT_MAX_PARAMS = 2 ** 26;
/** Largest number of layers by default. */
export const DEFAULT_MAX_LAYERS = 4096;
/** Row pointers (and wide column indices) are I32, so sizes and entry counts stay below 2^31. */
export const MAX_INT32 = 2 ** 31 - 1;

/**
 * Checks a model spec from an untrusted source (a file, a caller) and returns a fresh, normalized copy.
 * Layer types come from an allow-list, each layer has exactly its own fields, sizes are positive safe integers,
 * consecutive linear layers chain (in = previous out), there is at least one linear layer, dropout p is in
 * [0, 1), and the total parameter count is within `maxParams`. Throws ModelFormatError('E_BAD_SPEC').
 */
export function validateModelSpec(value: unknown, limits: Pick<ModelLimits, 'maxParams' | 'maxLayers'> = {}): ModelSpec {
  const maxParams = limits.maxParams ?? DEFAULT_MAX_PARAMS;
  const maxLayers = limits.maxLayers ?? DEFAULT_MAX_LAYERS;
  const fail = (message: string): never => {
    throw new ModelFormatError('E_BAD_SPEC', `model architecture: ${message}`);
  };
  if (!isPlainObject(value) || !sameKeys(value, ['layers'])) fail('must be an object with exactly one field, "layers"');
  const layersValue = (value as Record<string, unknown>)['layers'];
  if (!Array.isArray(layersValue) || layersValue.length === 0) fail('"layers" must be a non-empty array');
  const rawLayers = layersValue as unknown[];
  if (rawLayers.length > maxLayers) fail(`has ${rawLayers.length} layers, more than the limit of ${maxLayers}`);

  const layers: LayerSpec[] = [];
  let width: number | null = null; // output width of the last linear layer
  let paramCount = 0;
  rawLayers.forEach((raw, i) => {
    if (!isPlainObject(raw) || typeof raw['type'] !== 'string') return fail(`layer ${i} must be an object with a string "type"`);
    const type = raw['type'];
    if (!(LAYER_TYPES as readonly string[]).includes(type)) return fail(`layer ${i} has unknown type ${JSON.stringify(type)} (known: ${LAYER_TYPES.join(', ')})`);
    if (type === 'linear') {
      if (!sameKeys(raw, ['type', 'inFeatures', 'outFeatures', 'bias'])) return fail(`linear layer ${i} must have exactly type, inFeatures, outFeatures, bias`);
      const inFeatures = raw['inFeatures'];
      const outFeatures = raw['outFeatures'];
      const bias = raw['bias'];
      for (const [field, size] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
        if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size > MAX_INT32) {
          fail(`linear layer ${i} has ${field} ${JSON.stringify(size) ?? String(size)}; it must be a positive integer below 2^31`);
        }
      }
      if (typeof bias !== 'boolean') return fail(`linear layer ${i} has bias ${JSON.stringify(bias) ?? String(bias)}; it must be true or false`);
      const nIn = inFeatures as number;
      const nOut = outFeatures as number;
      if (width !== null && nIn !== width) fail(`linear layer ${i} takes ${nIn} inputs but the previous linear layer gives ${width}`);
      width = nOut;
      // Both sizes are below 2^31, so the product may be inexact above 2^53 but is never too small to compare.
      paramCount += nIn * nOut + (bias ? nOut : 0);
      if (paramCount > maxParams) fail(`has more than ${maxParams} parameters (the limit)`);
      layers.push({ type: 'linear', inFeatures: nIn, outFeatures: nOut, bias });
    } else if (IMAGE_LAYER_TYPES.includes(type)) {
      const layer = validateImageLayer(raw, i, fail);
      paramCount += imageLayerParameters(layer);
      if (paramCount > maxParams) fail(`has more than ${maxParams} parameters (the limit)`);
      layers.push(layer);
    } else if (type === 'dropout') {
      if (!sameKeys(raw, ['type', 'p'])) return fail(`dropout layer ${i} must have exactly type, p`);
      const p = raw['p'];
      if (typeof p !== 'number' || !(p >= 0 && p < 1)) return fail(`dropout layer ${i} has p ${JSON.stringify(p) ?? String(p)}; it must be in [0, 1)`);
      layers.push({ type: 'dropout', p });
    } else {
      if (!sameKeys(raw, ['type'])) return fail(`${type} layer ${i} must have only a "type" field`);
      layers.push({ type: type as 'relu' | 'sigmoid' | 'tanh' });
    }
    return undefined;
  });
  // Activations alone map nothing to anything: such a "model" would answer with its own input.
  if (width === null && !layers.some((l) => l.type === 'conv2d')) fail('has no linear layer; a model needs at least one layer that maps inputs to outputs');
  // Every layer must fit the shape its input has (conv2d needs images, linear a row of the right width).
  try {
    specShapes({ layers });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  return { layers };
}

/** Parameter name -> shape, in architecture order. */
export function parameterShapes(spec: ModelSpec): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  spec.layers.forEach((layer, i) => {
    imageLayerShapes(layer, i, shapes);
    if (layer.type !== 'linear') return;
    shapes.set(`layers.${i}.weight`, [layer.outFeatures, layer.inFeatures]);
    if (layer.bias) shapes.set(`layers.${i}.bias`, [layer.outFeatures]);
  });
  return shapes;
}

/** The spec as compact JSON with a fixed key order, so the same spec always gives the same bytes. */
export function specToJson(spec: ModelSpec): string {
  const layers = spec.layers.map((layer) => {
    switch (layer.type) {
      case 'linear':
        return `{"type":"linear","inFeatures":${layer.inFeatures},"outFeatures":${layer.outFeatures},"bias":${layer.bias}}`;
      case 'dropout':
        return `{"type":"dropout","p":${JSON.stringify(layer.p)}}`;
      default:
        return imageLayerJson(layer) ?? `{"type":"${layer.type}"}`;
    }
  });
  return `{"layers":[${layers.join(',')}]}`;
}

/** True for `{...}` objects (prototype Object.prototype or null), false for arrays, class instances and null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function sameKeys(object: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(object);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(object, key));
}
