import { DTypeError, NonFiniteError, ShapeError } from '../errors.ts';
import type { Rng } from './rng.ts';
import { assertValidShape, formatShape, sizeOf, type Shape } from './shape.ts';
import { isFloat32Array, isFloat64Array } from './typed-array.ts';
import { scratchF32 } from './wasm/instance.ts';

/** Element type of a tensor. float32 is the working type; float64 exists so gradients can be checked exactly. */
export type DType = 'float32' | 'float64';
/** The storage of a tensor: Float32Array for float32, Float64Array for float64. */
export type FloatArray = Float32Array | Float64Array;

/** A nested array of numbers, as written in source code: `[[1, 2], [3, 4]]`. */
export type NestedArray = number | readonly NestedArray[];

/**
 * An n-dimensional array: a contiguous, row-major typed array plus a shape.
 * Tensors are values: ops return new tensors and never change their inputs. `data` is exposed for kernels
 * and I/O; writing into it is allowed only for tensors you own (see the `InPlace` helpers).
 */
export class Tensor {
  readonly data: FloatArray;
  readonly shape: Shape;

  constructor(data: FloatArray, shape: Shape) {
    if (!isFloat32Array(data) && !isFloat64Array(data)) {
      throw new DTypeError(`Tensor data must be a Float32Array or Float64Array, got ${describeArray(data)}`);
    }
    assertValidShape(shape);
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor data has ${data.length} elements but shape ${formatShape(shape)} needs ${size}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType {
    return isFloat64Array(this.data) ? 'float64' : 'float32';
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The same data seen with another shape (no copy). */
  reshape(shape: Shape): Tensor {
    const resolved = resolveReshape(this.shape, shape);
    return new Tensor(this.data, resolved);
  }

  /** A copy on the JavaScript heap (also of a tensor that lives in the SIMD kernels' memory). */
  clone(): Tensor {
    const data = allocate(this.size, this.dtype);
    data.set(this.data); // a block copy; slice() copies element by element out of a SharedArrayBuffer
    return new Tensor(data, this.shape);
  }

  /** A copy in the given element type (or this tensor itself if it already has it). */
  as(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    return new Tensor(dtype === 'float64' ? Float64Array.from(this.data) : Float32Array.from(this.data), this.shape);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item() needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.data[0]!;
  }

  /** One element, by its index along each axis. Convenient, not fast. */
  get(...index: number[]): number {
    if (index.length !== this.rank) {
      throw new ShapeError(`get: ${index.length} indices given for a tensor of shape ${formatShape(this.shape)}`);
    }
    let flat = 0;
    for (let i = 0; i < index.length; i++) {
      const n = this.shape[i]!;
      const k = index[i]!;
      if (!Number.isInteger(k) || k < 0 || k >= n) throw new ShapeError(`get: index ${k} out of range for axis ${i} of ${formatShape(this.shape)}`);
      flat = flat * n + k;
    }
    return this.data[flat]!;
  }

  /** The elements as nested JavaScript arrays (a number for a scalar). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.rank) return this.data[offset]!;
      const n = this.shape[axis]!;
      let stride = 1;
      for (let i = axis + 1; i < this.rank; i++) stride *= this.shape[i]!;
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(axis + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype})`;
  }
}

/** A short name for what `x` is (its class name, "a plain Array", null), for error messages. */
export function describeArray(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'a plain Array';
  return (x as object).constructor?.name ?? typeof x;
}

/** Resolves a shape with at most one `-1` against a total size. */
function resolveReshape(from: Shape, to: Shape): number[] {
  const size = sizeOf(from);
  const out = [...to];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new ShapeError(`reshape ${formatShape(from)} -> ${formatShape(to)}: at most one -1 is allowed`);
  if (free >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== free));
    if (known === 0 || size % known !== 0) throw new ShapeError(`reshape ${formatShape(from)} -> ${formatShape(to)}: cannot infer the -1 dimension`);
    out[free] = size / known;
  }
  assertValidShape(out, 'reshape target');
  if (sizeOf(out) !== size) throw new ShapeError(`reshape ${formatShape(from)} -> ${formatShape(to)}: sizes ${size} and ${sizeOf(out)} differ`);
  return out;
}

/** A zeroed array for `size` elements, on the JavaScript heap. */
export function allocate(size: number, dtype: DType): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/**
 * A zeroed array for an op's result. During a training step on the 'wasm-simd' backend a float32 result is
 * a view of the SIMD kernels' memory that lives until the next step starts (src/tensor/wasm/arena.ts), so
 * the kernels use it without a copy; otherwise it is an ordinary typed array, like `allocate`.
 */
export function allocateResult(size: number, dtype: DType): FloatArray {
  if (dtype === 'float64') return new Float64Array(size);
  return scratchF32(size, true) ?? new Float32Array(size);
}

/** Like allocateResult, for a result whose every element the caller writes: it may hold old values. */
export function allocateOverwritten(size: number, dtype: DType): FloatArray {
  if (dtype === 'float64') return new Float64Array(size);
  return scratchF32(size, false) ?? new Float32Array(size);
}

/** A tensor of `shape` filled with 0. Throws ShapeError for a dimension that is not a non-negative safe integer. */
export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  assertValidShape(shape);
  return new Tensor(allocate(sizeOf(shape), dtype), shape);
}

/** A tensor of `shape` filled with `value`. Throws ShapeError for a dimension that is not a non-negative safe integer. */
export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}

/** A tensor of `shape` filled with 1. Throws ShapeError for a dimension that is not a non-negative safe integer. */
export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** A rank-0 tensor (shape []) holding `value`. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

/**
 * A tensor from numbers: nested arrays (`tensor([[1, 2], [3, 4]])`), or flat values plus a shape
 * (`tensor([1, 2, 3, 4], [2, 2])`). A typed array is copied.
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: Shape, dtype: DType = 'float32'): Tensor {
  if (shape !== undefined) {
    const flat = typeof values === 'number' ? [values] : (values as ArrayLike<number>);
    assertValidShape(shape);
    if (flat.length !== sizeOf(shape)) {
      throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const data = allocate(flat.length, dtype);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== 'number') throw new DTypeError(`tensor: element ${i} is ${typeof v}, not a number`);
      data[i] = v;
    }
    return new Tensor(data, shape);
  }
  const inferred: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    inferred.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, axis: number): void => {
    if (axis === inferred.length) {
      if (typeof v !== 'number') throw new DTypeError(`tensor: expected a number at depth ${axis}, got ${typeof v}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== inferred[axis]) {
      throw new ShapeError(`tensor: ragged nested array (axis ${axis} should have length ${inferred[axis]})`);
    }
    for (const item of v) walk(item, axis + 1);
  };
  walk(values, 0);
  return tensor(flat, inferred, dtype);
}

/** Normal deviates with the given mean and standard deviation, drawn from `rng`. */
export function randn(shape: Shape, rng: Rng, options: { mean?: number; std?: number; dtype?: DType } = {}): Tensor {
  const { mean = 0, std = 1, dtype = 'float32' } = options;
  const t = zeros(shape, dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * rng.normal();
  return t;
}

/** Uniform deviates in [low, high), drawn from `rng`. */
export function randu(shape: Shape, rng: Rng, options: { low?: number; high?: number; dtype?: DType } = {}): Tensor {
  const { low = 0, high = 1, dtype = 'float32' } = options;
  const t = zeros(shape, dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = low + (high - low) * rng.uniform();
  return t;
}

/** Throws a NonFiniteError naming the first NaN or infinity, if any. */
export function assertFinite(values: ArrayLike<number>, what: string): void {
  // A branch-free pass first (v − v is 0 for a finite v and NaN otherwise): it runs once per fit over the
  // whole training set, so it should cost little more than reading it. Four sums, so the adds do not wait
  // on each other (one sum is bound by the add's latency: 4× slower on 47 M Fashion-MNIST pixels).
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
  const n = values.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const a = values[i]!, b = values[i + 1]!, c = values[i + 2]!, d = values[i + 3]!;
    p0 += a - a;
    p1 += b - b;
    p2 += c - c;
    p3 += d - d;
  }
  for (let i = n4; i < n; i++) p0 += values[i]! - values[i]!;
  if (p0 + p1 + p2 + p3 === 0) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new NonFiniteError(`${what} contains a non-finite value (${v}) at index ${i}`);
  }
}

/** The element type two operands compute in: float64 if either is float64. */
export function resultDType(a: Tensor, b: Tensor): DType {
  return a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
}
