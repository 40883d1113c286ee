import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.ts';
import { parseQuantizeFlag, quantizeExtras, quantizeLabel } from '../../src/cli/quantize-flags.ts';

describe('--quantize Q', () => {
  it('reads the method, the widths and the f16 token', () => {
    expect(parseQuantizeFlag('int8')).toEqual({ method: 'int8', bits: null, layerBits: null, float16: false });
    expect(parseQuantizeFlag('int8,f16')).toEqual({ method: 'int8', bits: null, layerBits: null, float16: true });
    expect(parseQuantizeFlag('kmeans:4')).toEqual({ method: 'kmeans', bits: 4, layerBits: null, float16: false });
    expect(parseQuantizeFlag('kmeans:4,f16')).toEqual({ method: 'kmeans', bits: 4, layerBits: null, float16: true });
    expect(parseQuantizeFlag('kmeans:4,layers.0=3,f16')).toEqual({ method: 'kmeans', bits: 4, layerBits: { 'layers.0': 3 }, float16: true });
    expect(parseQuantizeFlag('kmeans:4,f16,layers.0=3')).toEqual(parseQuantizeFlag('kmeans:4,layers.0=3,f16'));
  });

  it.each([
    ['kmeans:4,f16,f16', /f16 is given twice/],
    ['kmeans:4,F16', /'F16' is not a quantizer option; write f16/],
    ['kmeans:4,fp16', /'fp16' is not a quantizer option/],
    ['kmeans:4,float16', /'float16' is not a quantizer option/],
    ['kmeans:4,f16=1', /'f16=1' is not a quantizer option/],
    ['f16', /must be int8, kmeans:B .* optionally with ,f16; got 'f16'/],
    ['f16,kmeans:4', /must be int8, kmeans:B/],
    ['int8,layers.0=3', /must be int8, kmeans:B/],
    ['kmeans:4,', /'' is not LAYER=B/],
  ])('refuses %s with a usage error', (text, message) => {
    expect(() => parseQuantizeFlag(text)).toThrowError(UsageError);
    expect(() => parseQuantizeFlag(text)).toThrowError(message);
  });

  it('labels and records f16 only when asked for', () => {
    expect(quantizeLabel(parseQuantizeFlag('kmeans:4,layers.0=3,f16'))).toBe('kmeans 4-bit, layers.0 3-bit, f16');
    expect(quantizeLabel(parseQuantizeFlag('int8,f16'))).toBe('int8, f16');
    expect(quantizeLabel(parseQuantizeFlag('kmeans:5'))).toBe('kmeans 5-bit');
    expect(quantizeExtras(parseQuantizeFlag('kmeans:4,layers.0=3,f16'))).toEqual({ layerBits: { 'layers.0': 3 }, float16: true });
    expect(quantizeExtras(parseQuantizeFlag('kmeans:4'))).toEqual({});
  });
});
