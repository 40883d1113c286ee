/**
 * validateModelSpec at its edges, with exact messages: the layer and parameter limits are inclusive, a
 * layer that is not an object (null included) or has other fields is named, and sizes are checked even
 * where a later check would also fail. From the survivors of `npm run mutate -- io`.
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { validateModelSpec } from '../../src/io/model-file.ts';

const linear = (inFeatures: unknown, outFeatures: unknown, bias: unknown = true): Record<string, unknown> => ({ type: 'linear', inFeatures, outFeatures, bias });

function messageOf(spec: unknown, limits = {}): string {
  try {
    validateModelSpec(spec, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).code).toBe('E_BAD_SPEC');
    return (error as Error).message.replace(/^model architecture: /, '');
  }
  throw new Error('expected the spec to be refused');
}

describe('validateModelSpec', () => {
  it('the limits are inclusive: maxLayers layers and maxParams parameters (bias included) are allowed', () => {
    const spec = { layers: [linear(10, 10), { type: 'relu' }] };
    expect(() => validateModelSpec(spec, { maxLayers: 2, maxParams: 110 })).not.toThrow();
    expect(messageOf(spec, { maxLayers: 1 })).toBe('has 2 layers, more than the limit of 1');
    expect(messageOf(spec, { maxParams: 109 })).toBe('has more than 109 parameters (the limit)');
    expect(() => validateModelSpec({ layers: [linear(10, 10, false)] }, { maxParams: 100 })).not.toThrow();
  });

  it('each layer must be an object with a known string type', () => {
    expect(messageOf({ layers: [null] })).toBe('layer 0 must be an object with a string "type"');
    expect(messageOf({ layers: [linear(2, 2), 'relu'] })).toBe('layer 1 must be an object with a string "type"');
    expect(messageOf({ layers: [{ type: 7 }] })).toBe('layer 0 must be an object with a string "type"');
    expect(messageOf({ layers: [{ type: 'conv' }] })).toBe('layer 0 has unknown type "conv" (known: linear, relu, sigmoid, tanh, dropout, conv2d, maxpool2d, avgpool2d, flatten, reshape)');
  });

  it('each layer has exactly its own fields', () => {
    expect(messageOf({ layers: [{ type: 'linear', inFeatures: 2, outFeatures: 2, biass: true }] })).toBe('linear layer 0 must have exactly type, inFeatures, outFeatures, bias');
    expect(messageOf({ layers: [linear(2, 2), { type: 'dropout', p: 0.1, seed: 1 }] })).toBe('dropout layer 1 must have exactly type, p');
    expect(messageOf({ layers: [linear(2, 2), { type: 'dropout', rate: 0.1 }] })).toBe('dropout layer 1 must have exactly type, p');
  });

  it('sizes, bias and p', () => {
    for (const [size, shown] of [[0, '0'], [1.5, '1.5'], ['2', '"2"'], [null, 'null'], [2 ** 31, String(2 ** 31)]] as const) {
      expect(messageOf({ layers: [linear(size, 2)] })).toBe(`linear layer 0 has inFeatures ${shown}; it must be a positive integer below 2^31`);
      expect(messageOf({ layers: [linear(2, size)] })).toBe(`linear layer 0 has outFeatures ${shown}; it must be a positive integer below 2^31`);
    }
    // 2^31 − 1 is a valid size: what stops it is the parameter limit.
    expect(messageOf({ layers: [linear(2 ** 31 - 1, 1)] })).toMatch(/^has more than \d+ parameters \(the limit\)$/);
    expect(messageOf({ layers: [linear(2, 2, 'yes')] })).toBe('linear layer 0 has bias "yes"; it must be true or false');
    expect(messageOf({ layers: [linear(2, 2), { type: 'dropout', p: '0.5' }] })).toBe('dropout layer 1 has p "0.5"; it must be in [0, 1)');
    expect(() => validateModelSpec({ layers: [linear(2, 2), { type: 'dropout', p: 0 }] })).not.toThrow();
  });
});
