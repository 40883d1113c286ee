import { ShapeError } from '../errors.ts';
import { binaryKernel, unaryKernel, scaleKernel, type BinaryOp, type UnaryOp } from './kernels/elementwise.ts';
import { gemmNN, gemmNT, gemmTN } from './kernels/gemm.ts';
import { maxAxisKernel, softmaxAxisKernel, sumAxisKernel } from './kernels/reduce.ts';
import { broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeOf, stridesOf, type Shape } from './shape.ts';
import { allocate, resultDType, scalar, Tensor } from './tensor.ts';

/*
 * Tensor-level operations: they validate their inputs (with messages that name the shapes), allocate the
 * result and call a kernel. Nothing here records gradients; see src/autograd for that.
 */

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
  const out = new Tensor(allocate(sizeOf(shape), resultDType(a, b)), shape);
  binaryKernel(op, out.size, a.data, broadcastIndexMap(shape, a.shape), b.data, broadcastIndexMap(shape, b.shape), out.data);
  return out;
}

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binary('max', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('min', a, b);

function unary(op: UnaryOp, x: Tensor): Tensor {
  const out = new Tensor(allocate(x.size, x.dtype), x.shape);
  unaryKernel(op, x.size, x.data, out.data);
  return out;
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);

export function scale(x: Tensor, s: number): Tensor {
  const out = new Tensor(allocate(x.size, x.dtype), x.shape);
  scaleKernel(x.size, x.data, s, out.data);
  return out;
}

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
  const out = new Tensor(allocate(m * n, resultDType(a, b)), [m, n]);
  const ad = a.dtype === out.dtype ? a.data : a.as(out.dtype).data;
  const bd = b.dtype === out.dtype ? b.data : b.as(out.dtype).data;
  if (transA) gemmTN(m, n, k, ad, bd, out.data);
  else if (transB) gemmNT(m, n, k, ad, bd, out.data);
  else gemmNN(m, n, k, ad, bd, out.data);
  return out;
}

/** The transpose of a 2-D tensor (a copy). */
export function transpose(x: Tensor): Tensor {
  if (x.rank !== 2) throw new ShapeError(`transpose needs a matrix, got ${formatShape(x.shape)}`);
  const [r, c] = x.shape as [number, number];
  const out = new Tensor(allocate(x.size, x.dtype), [c, r]);
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
  const out = new Tensor(allocate(outer * inner, x.dtype), reducedShape(x.shape, ax, keepDims));
  sumAxisKernel(outer, len, inner, x.data, out.data);
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
  const values = new Tensor(allocate(outer * inner, x.dtype), reducedShape(x.shape, ax, keepDims));
  const indices = new Int32Array(outer * inner);
  maxAxisKernel(outer, len, inner, x.data, values.data, indices);
  return { values, indices };
}

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
  const out = new Tensor(allocate(x.size, x.dtype), x.shape);
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
  const out = new Tensor(allocate(sizeOf(shape), x.dtype), shape);
  const map = broadcastIndexMap(x.shape, shape)!;
  for (let i = 0; i < x.size; i++) out.data[map[i]!]! += x.data[i]!;
  return out;
}
