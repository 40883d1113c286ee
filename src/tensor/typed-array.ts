/*
 * Realm-safe typed-array checks. `x instanceof Float32Array` is false for a Float32Array made in another
 * realm (an iframe, a worker's transferred view, Node's `vm`), because every realm has its own constructor;
 * that would refuse a perfectly good input. `Object.prototype.toString` is realm-safe but can be fooled: an
 * object may define its own Symbol.toStringTag. These checks read the typed array's internal
 * [[TypedArrayName]] slot through the %TypedArray%.prototype[Symbol.toStringTag] getter, which works on
 * typed arrays of any realm, returns undefined for everything else, and cannot be spoofed.
 */

/** The element type names of the typed arrays this library reads. */
export type TypedArrayName =
  | 'Float32Array' | 'Float64Array' | 'Int32Array' | 'Uint8Array' | 'Uint8ClampedArray' | 'Uint16Array' | 'Int16Array' | 'Int8Array'
  | 'Uint32Array' | 'BigInt64Array' | 'BigUint64Array';

const typedArrayNameGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get!;

/**
 * The element type of a typed array from any realm ('Float32Array', 'Uint8Array', ...), or undefined when
 * `x` is not a typed array (a DataView, a plain array, an object that only claims a tag).
 */
export function typedArrayName(x: unknown): TypedArrayName | undefined {
  if (typeof x !== 'object' || x === null || !ArrayBuffer.isView(x)) return undefined;
  return typedArrayNameGetter.call(x) as TypedArrayName | undefined;
}

/** True for a Float32Array of any realm (see the file comment). */
export function isFloat32Array(x: unknown): x is Float32Array {
  return typedArrayName(x) === 'Float32Array';
}

/** True for a Float64Array of any realm. */
export function isFloat64Array(x: unknown): x is Float64Array {
  return typedArrayName(x) === 'Float64Array';
}

/** True for an Int32Array of any realm. */
export function isInt32Array(x: unknown): x is Int32Array {
  return typedArrayName(x) === 'Int32Array';
}

/** True for a Uint8Array of any realm (a Node Buffer is one). */
export function isUint8Array(x: unknown): x is Uint8Array {
  return typedArrayName(x) === 'Uint8Array';
}
