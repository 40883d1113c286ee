import { ShapeError } from '../errors.ts';
import { addRowVectorInPlace as addRowVectorKernel, binaryKernel, unaryKernel, scaleKernel, type BinaryOp, type UnaryOp } from './kernels/elementwise.ts';
import { gemmNN, gemmNT, gemmTN } from './kernels/gemm.ts';
import { maxAxisKernel, softmaxAxisKernel, sumAxisKernel } from './kernels/reduce.ts';
import { broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeOf, stridesOf, type Shape } from './shape.ts';
import { allocate, allocateOverwritten, allocateResult, resultDType, scalar, Tensor, type FloatArray } from './tensor.ts';
import { simdGemmNN, simdGemmNT, simdGemmTN } from './wasm/gemm.ts';
import { activeSimd } from './wasm/instance.ts';
import { simdAdd, simdAddRowVector, simdRelu, simdReluBackward, simdSumRows } from './wasm/simd-kernels.ts';

/*
 * Tensor-level operations: they validate their inputs (with messages that name the shapes), allocate the
 * result and call a kernel. Nothing here records gradients; see src/autograd for that.
 *
 * The kernel comes from the current backend (backend.ts): on 'wasm-simd', float32 matrix products, ReLU,
 * same-shape addition, row sums and bias addition run on the WebAssembly SIMD kernels (src/tensor/wasm);
 * everything else, and all float64 work, on the TypeScript kernels. The SIMD elementwise kernels give the
 * same bits as the TypeScript ones; SIMD matrix products sum in float32 (the TypeScript ones in float64).
 */

/** The SIMD kernels when the current backend is 'wasm-simd' and every array is float32, else null. */
function simdFor(...arrays: FloatArray[]) {
  return arrays.every((x) => x instanceof Float32Array) ? activeSimd() : null;
}

type Operand = Tensor | number;

function asTensor(x: Operand, like: Tensor): Tensor {
  return typeof x === 'number' ? scalar(x, like.dtype) : x;
}

/**
 * For each element of a tensor of shape `outShape`, the index of the element of a tensor of shape
 * `inShape` that broadcasting maps onto it. Returns null when the shapes are equal (identity map).
 */
export function broadcastIndexMap(outShape: Shape, inShape: Shape): Int32Array | null {
  if (shapesEqual(outShape, inShape)) return null;
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  // Stride of each output axis in the input: 0 where the input is broadcast (missing or size 1).
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    const axis = rank - inShape.length + i;
    strides[axis] = inShape[i] === 1 ? 0 : inStrides[i]!;
  }
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let flat = 0; flat < n; flat++) {
    map[flat] = offset;
    // Odometer increment over the output index, updating the input offset incrementally.
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]!++;
      offset += strides[axis]!;
      if (counter[axis]! < outShape[axis]!) break;
      offset -= strides[axis]! * outShape[axis]!;
      counter[axis] = 0;
    }
  }
  return map;
}

function binary(op: BinaryOp, x: Operand, y: Operand): Tensor {
  const a = typeof x === 'number' ? asTensor(x, y as Tensor) : x;
  const b = asTensor(y, a);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = new Tensor(allocateOverwritten(sizeOf(shape), resultDType(a, b)), shape);
  const ia = broadcastIndexMap(shape, a.shape);
  const ib = broadcastIndexMap(shape, b.shape);
  const simd = op === 'add' && ia === null && ib === null ? simdFor(a.data, b.data) : null;
  if (simd !== null) simdAdd(simd, out.size, a.data as Float32Array, b.data as Float32Array, out.data as Float32Array);
  else binaryKernel(op, out.size, a.data, ia, b.data, ib, out.data);
  return out;
}

/** a + b, elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
/** a − b, elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
/** a · b (elementwise), elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
/** a / b, elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
/** max(a, b), elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const maximum = (a: Operand, b: Operand): Tensor => binary('max', a, b);
/** min(a, b), elementwise with NumPy broadcasting (a number acts as a scalar of the other operand's dtype); the result has the broadcast shape and is float64 if either operand is. Throws ShapeError when the shapes do not broadcast. */
export const minimum = (a: Operand, b: Operand): Tensor => binary('min', a, b);

function unary(op: UnaryOp, x: Tensor): Tensor {
  const out = new Tensor(allocateOverwritten(x.size, x.dtype), x.shape);
  const simd = op === 'relu' ? simdFor(x.data) : null;
  if (simd !== null) simdRelu(simd, x.size, x.data as Float32Array, out.data as Float32Array);
  else unaryKernel(op, x.size, x.data, out.data);
  return out;
}

/** −x, elementwise (same shape and dtype). */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x|, elementwise (same shape and dtype). */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** eˣ, elementwise (same shape and dtype). */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** ln x, elementwise (same shape and dtype; ln 0 = −Infinity, ln of a negative = NaN, as in Math.log). */
export const log = (x: Tensor): Tensor => unary('log', x);
/** √x, elementwise (same shape and dtype; NaN for a negative, as in Math.sqrt). */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** x², elementwise (same shape and dtype). */
export const square = (x: Tensor): Tensor => unary('square', x);
/** max(x, 0), elementwise (same shape and dtype). */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** 1 / (1 + e⁻ˣ), elementwise (same shape and dtype). */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** tanh x, elementwise (same shape and dtype). */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);

/** The gradient of relu: dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch). Same shapes. */
export function reluBackward(x: Tensor, dy: Tensor): Tensor {
  if (!shapesEqual(x.shape, dy.shape)) throw new ShapeError(`reluBackward: x ${formatShape(x.shape)} and dy ${formatShape(dy.shape)} differ`);
  const dx = new Tensor(allocateOverwritten(dy.size, dy.dtype), dy.shape);
  const simd = simdFor(x.data, dy.data, dx.data);
  if (simd !== null) {
    simdReluBackward(simd, dx.size, x.data as Float32Array, dy.data as Float32Array, dx.data as Float32Array);
  } else {
    const xs = x.data, g = dy.data, out = dx.data;
    for (let i = 0; i < out.length; i++) out[i] = xs[i]! > 0 ? g[i]! : 0;
  }
  return dx;
}

/** rows[r, :] += bias for a [nRows, nCols] matrix `rows` that the caller owns (in place). */
export function addRowVectorInPlace(rows: Tensor, bias: Tensor): void {
  const [nRows, nCols] = rows.shape as [number, number];
  if (rows.rank !== 2 || bias.rank !== 1 || bias.shape[0] !== nCols) {
    throw new ShapeError(`addRowVectorInPlace: bias ${formatShape(bias.shape)} does not fit the rows of ${formatShape(rows.shape)}`);
  }
  const simd = simdFor(rows.data, bias.data);
  if (simd !== null) simdAddRowVector(simd, nRows, nCols, rows.data as Float32Array, bias.data as Float32Array);
  else addRowVectorKernel(nRows, nCols, rows.data, bias.data);
}

/** x · s for a number s, elementwise (same shape and dtype). */
export function scale(x: Tensor, s: number): Tensor {
  const out = new Tensor(allocateOverwritten(x.size, x.dtype), x.shape);
  scaleKernel(x.size, x.data, s, out.data);
  return out;
}

/** Options of `matmul`: which operand to use transposed (the transpose is never materialised). */
export interface MatmulOptions {
  /** Use Aᵀ instead of A. */
  transA?: boolean;
  /** Use Bᵀ instead of B. */
  transB?: boolean;
}

/**
 * Matrix product of two 2-D tensors, optionally with either operand transposed (the transpose is never
 * materialised). `matmul(x, w, { transB: true })` is x·wᵀ.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = options;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(`matmul needs two matrices, got a=${formatShape(a.shape)} and b=${formatShape(b.shape)}`);
  }
  const [ar, ac] = a.shape as [number, number];
  const [br, bc] = b.shape as [number, number];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    const form = `${transA ? 'aᵀ' : 'a'}·${transB ? 'bᵀ' : 'b'}`;
    throw new ShapeError(`matmul ${form}: inner dimensions ${k} and ${kb} differ (a=${formatShape(a.shape)}, b=${formatShape(b.shape)})`);
  }
  if (transA && transB) {
    // Aᵀ·Bᵀ = (B·A)ᵀ is never needed by the library; keep the kernel set to the three forms.
    throw new ShapeError('matmul with both operands transposed is not supported; compute (b·a) and transpose it');
  }
  const out = new Tensor(allocateOverwritten(m * n, resultDType(a, b)), [m, n]);
  const ad = a.dtype === out.dtype ? a.data : a.as(out.dtype).data;
  const bd = b.dtype === out.dtype ? b.data : b.as(out.dtype).data;
  const simd = simdFor(ad, bd);
  if (simd !== null) {
    const [a32, b32, c32] = [ad as Float32Array, bd as Float32Array, out.data as Float32Array];
    if (transA) simdGemmTN(m, n, k, a32, b32, c32);
    else if (transB) simdGemmNT(m, n, k, a32, b32, c32);
    else simdGemmNN(m, n, k, a32, b32, c32);
  } else if (transA) gemmTN(m, n, k, ad, bd, out.data);
  else if (transB) gemmNT(m, n, k, ad, bd, out.data);
  else gemmNN(m, n, k, ad, bd, out.data);
  return out;
}

/** The transpose of a 2-D tensor (a copy). */
export function transpose(x: Tensor): Tensor {
  if (x.rank !== 2) throw new ShapeError(`transpose needs a matrix, got ${formatShape(x.shape)}`);
  const [r, c] = x.shape as [number, number];
  const out = new Tensor(allocateOverwritten(x.size, x.dtype), [c, r]);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[j * r + i] = x.data[i * c + j]!;
  return out;
}

/** Splits a shape around `axis` into the [outer, len, inner] view the reduction kernels use. */
function axisView(shape: Shape, axis: number): { outer: number; len: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, len: shape[axis]!, inner };
}

function reducedShape(shape: Shape, axis: number, keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

/** Sum over one axis, or over everything when `axis` is undefined. */
export function sum(x: Tensor, axis?: number, keepDims = false): Tensor {
  if (axis === undefined) {
    let acc = 0;
    for (let i = 0; i < x.size; i++) acc += x.data[i]!;
    return keepDims ? new Tensor(allocate(1, x.dtype).fill(acc), x.shape.map(() => 1)) : scalar(acc, x.dtype);
  }
  const ax = normalizeAxis(axis, x.rank, 'sum');
  const { outer, len, inner } = axisView(x.shape, ax);
  const out = new Tensor(allocateOverwritten(outer * inner, x.dtype), reducedShape(x.shape, ax, keepDims));
  // Column sums of a matrix (the bias gradient): the SIMD kernel sums in the same order, same bits.
  const simd = outer === 1 && inner > 1 ? simdFor(x.data) : null;
  if (simd !== null) simdSumRows(simd, len, inner, x.data as Float32Array, out.data as Float32Array);
  else sumAxisKernel(outer, len, inner, x.data, out.data);
  return out;
}

/** Mean over one axis, or over everything when `axis` is undefined. */
export function mean(x: Tensor, axis?: number, keepDims = false): Tensor {
  const count = axis === undefined ? x.size : x.shape[normalizeAxis(axis, x.rank, 'mean')]!;
  if (count === 0) throw new ShapeError(`mean over an empty axis of ${formatShape(x.shape)}`);
  return scale(sum(x, axis, keepDims), 1 / count);
}

/** Maximum over one axis, with the position of the first maximum along it. */
export function maxWithIndex(x: Tensor, axis: number, keepDims = false): { values: Tensor; indices: Int32Array } {
  const ax = normalizeAxis(axis, x.rank, 'max');
  const { outer, len, inner } = axisView(x.shape, ax);
  if (len === 0) throw new ShapeError(`max over an empty axis of ${formatShape(x.shape)}`);
  const values = new Tensor(allocateOverwritten(outer * inner, x.dtype), reducedShape(x.shape, ax, keepDims));
  const indices = new Int32Array(outer * inner);
  maxAxisKernel(outer, len, inner, x.data, values.data, indices);
  return { values, indices };
}

/** Maximum over one axis (the axis is removed unless `keepDims`). Throws ShapeError for an empty axis or an axis out of range. */
export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  return maxWithIndex(x, axis, keepDims).values;
}

/** Index of the maximum along `axis` (default: the last), one per position of the other axes. */
export function argmax(x: Tensor, axis = -1): Int32Array {
  return maxWithIndex(x, axis).indices;
}

function softmaxLike(x: Tensor, axis: number, logarithm: boolean): Tensor {
  const ax = normalizeAxis(axis, x.rank, logarithm ? 'logSoftmax' : 'softmax');
  const { outer, len, inner } = axisView(x.shape, ax);
  const out = new Tensor(allocateOverwritten(x.size, x.dtype), x.shape);
  softmaxAxisKernel(outer, len, inner, x.data, out.data, logarithm);
  return out;
}

/** exp(x) / sum(exp(x)) along `axis` (default: the last), computed without overflow. */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxLike(x, axis, false);
/** log(softmax(x)) along `axis`, computed directly (stable for large logits). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxLike(x, axis, true);

/**
 * Sums a broadcast result back to `shape`: the reverse of broadcasting, which is what the gradient of a
 * broadcast operand needs. Throws if `shape` does not broadcast to x's shape.
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const target = broadcastShapes(x.shape, shape, 'sumToShape');
  if (!shapesEqual(target, x.shape)) {
    throw new ShapeError(`sumToShape: ${formatShape(shape)} does not broadcast to ${formatShape(x.shape)}`);
  }
  const out = new Tensor(allocateResult(sizeOf(shape), x.dtype), shape);
  const map = broadcastIndexMap(x.shape, shape)!;
  for (let i = 0; i < x.size; i++) out.data[map[i]!]! += x.data[i]!;
  return out;
}
