/** Realm-safe typed-array checks: arrays from another realm pass, look-alikes do not. */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isFloat32Array, isFloat64Array, isInt32Array, isUint8Array, typedArrayName } from '../../src/tensor/typed-array.ts';

describe('typed-array checks', () => {
  it('recognise typed arrays made in another realm, which instanceof does not', () => {
    const foreign = runInNewContext('({ f32: new Float32Array(3), f64: new Float64Array(2), i32: new Int32Array(1), u8: new Uint8Array(4) })') as Record<string, unknown>;
    expect(foreign['f32'] instanceof Float32Array).toBe(false);
    expect(isFloat32Array(foreign['f32'])).toBe(true);
    expect(isFloat64Array(foreign['f64'])).toBe(true);
    expect(isInt32Array(foreign['i32'])).toBe(true);
    expect(isUint8Array(foreign['u8'])).toBe(true);
    expect(isFloat32Array(foreign['f64'])).toBe(false);
  });

  it('are not fooled by a spoofed Symbol.toStringTag, a DataView or plain data', () => {
    const liar = new Uint8Array(8);
    Object.defineProperty(liar, Symbol.toStringTag, { value: 'Float32Array' });
    expect(Object.prototype.toString.call(liar)).toBe('[object Float32Array]');
    expect(isFloat32Array(liar)).toBe(false);
    expect(isUint8Array(liar)).toBe(true);
    expect(isFloat32Array({ [Symbol.toStringTag]: 'Float32Array', length: 0 })).toBe(false);
    expect(typedArrayName(new DataView(new ArrayBuffer(4)))).toBeUndefined();
    expect(typedArrayName([1, 2])).toBeUndefined();
    expect(typedArrayName(null)).toBeUndefined();
    expect(typedArrayName(Buffer.from([1]))).toBe('Uint8Array');
  });
});
