import type { KernelCall } from './arena.ts';
import type { SimdInstance, TrainingKernels } from './instance.ts';
import { recordKernels, runParallel, sharesFor } from './parallel.ts';

/*
 * The elementwise, reduction and optimizer kernels of the SIMD backend as plain functions over typed arrays
 * with explicit sizes, like the TypeScript kernels (../kernels/elementwise.ts, reduce.ts, the optimizers'
 * `update`). Arrays that are views of the kernels' memory are used in place, others are copied in and out
 * for the call (arena.ts). Shapes and costs are in the kernel files' headers (elementwise-kernels.ts,
 * optimizer-kernels.ts). Outputs may alias inputs elementwise (out = x), as the kernels read each element
 * before writing it.
 *
 * The optimizer updates split a large parameter into one range of elements per thread (of withThreads / fit's
 * `threads`): every element is updated by its own arithmetic, and the ranges are multiples of 4 elements, so
 * each element takes the same vector or scalar path as on one thread — the same bits.
 */

/**
 * The smallest share of an optimizer update worth a thread: 32 768 elements (~20 µs of Adam; SGD is cheaper
 * and uses the same threshold). Of LeNet-300-100 only the 784×300 weight is split.
 */
export const MIN_ELEMENTS_PER_SHARE = 32768;

type UpdateKernels = Pick<TrainingKernels, 'adam' | 'sgd'>;

/**
 * Runs `update(kernels, start, count)` over [0, n): at once, or in one range per thread (multiples of 4
 * elements) recorded and run on the threads of the current scope.
 */
function elementwise(simd: SimdInstance, call: KernelCall, n: number, update: (K: UpdateKernels, start: number, count: number) => void): void {
  const shares = sharesFor(simd, n, MIN_ELEMENTS_PER_SHARE);
  if (shares === 1) {
    update(simd.kernels, 0, n);
    return;
  }
  const { program, kernels } = recordKernels<UpdateKernels>(simd, ['adam', 'sgd']);
  const step = 4 * Math.ceil(n / shares / 4);
  for (let start = 0; start < n; start += step) {
    program.beginChunk();
    update(kernels, start, Math.min(step, n - start));
  }
  runParallel(simd, call, program);
}

/** out[i] = max(x[i], 0) for i < n (NaN stays NaN). */
export function simdRelu(simd: SimdInstance, n: number, x: Float32Array, out: Float32Array): void {
  simd.arena.call((call) => simd.kernels.relu(n, call.input(x, 0, n), call.output(out, 0, n, false)));
}

/** dx[i] = x[i] > 0 ? dy[i] : 0 for i < n. */
export function simdReluBackward(simd: SimdInstance, n: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  simd.arena.call((call) => simd.kernels.reluBackward(n, call.input(x, 0, n), call.input(dy, 0, n), call.output(dx, 0, n, false)));
}

/** out[i] = a[i] + b[i] for i < n. */
export function simdAdd(simd: SimdInstance, n: number, a: Float32Array, b: Float32Array, out: Float32Array): void {
  simd.arena.call((call) => simd.kernels.add(n, call.input(a, 0, n), call.input(b, 0, n), call.output(out, 0, n, false)));
}

/** rows[r, j] += bias[j] for an [nRows, nCols] row-major matrix. */
export function simdAddRowVector(simd: SimdInstance, nRows: number, nCols: number, rows: Float32Array, bias: Float32Array): void {
  const size = nRows * nCols;
  simd.arena.call((call) => simd.kernels.addRowVector(nRows, nCols, call.output(rows, 0, size, true), call.input(bias, 0, nCols)));
}

/** out[j] = Σ_r x[r, j] for an [nRows, nCols] row-major matrix (summed in row order from 0). */
export function simdSumRows(simd: SimdInstance, nRows: number, nCols: number, x: Float32Array, out: Float32Array): void {
  simd.arena.call((call) => simd.kernels.sumRows(nRows, nCols, call.input(x, 0, nRows * nCols), call.output(out, 0, nCols, false)));
}

/** The gradient is written (masked) only when there is a mask. */
function gradient(call: KernelCall, g: Float32Array, n: number, mask: Uint8Array | null): number {
  return mask === null ? call.input(g, 0, n) : call.output(g, 0, n, true);
}

/** Settings of one Adam/AdamW step (as in src/nn/optim/adam.ts), `step` counted from 1. */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  step: number;
}

/**
 * One Adam step over n weights, in place: w, g (masked in place when there is a mask), first and second
 * moments m and v. `mask` (0 = pruned) zeroes the gradient before and the weight and state after.
 */
export function simdAdam(simd: SimdInstance, n: number, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, mask: Uint8Array | null, s: AdamStep): void {
  const correction1 = 1 - s.beta1 ** s.step;
  const correction2 = 1 - s.beta2 ** s.step;
  simd.arena.call((call) => {
    const maskAddress = mask === null ? 0 : call.input(mask, 0, n);
    const [wAt, gAt, mAt, vAt] = [call.output(w, 0, n, true), gradient(call, g, n, mask), call.output(m, 0, n, true), call.output(v, 0, n, true)];
    elementwise(simd, call, n, (K, start, count) => K.adam(
      count, wAt + 4 * start, gAt + 4 * start, mAt + 4 * start, vAt + 4 * start, mask === null ? 0 : maskAddress + start, s.decoupled ? 1 : 0,
      s.lr, (s.lr / correction1) * Math.sqrt(correction2), s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.eps * Math.sqrt(correction2), s.weightDecay,
    ));
  });
}

/** Settings of one SGD step (as in src/nn/optim/sgd.ts). */
export interface SgdStep {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** One SGD step over n weights, in place; `velocity` is null without momentum. Masks as in simdAdam. */
export function simdSgd(simd: SimdInstance, n: number, w: Float32Array, g: Float32Array, velocity: Float32Array | null, mask: Uint8Array | null, s: SgdStep): void {
  simd.arena.call((call) => {
    const maskAddress = mask === null ? 0 : call.input(mask, 0, n);
    const velocityAddress = velocity === null ? 0 : call.output(velocity, 0, n, true);
    const [wAt, gAt] = [call.output(w, 0, n, true), gradient(call, g, n, mask)];
    elementwise(simd, call, n, (K, start, count) => K.sgd(
      count, wAt + 4 * start, gAt + 4 * start, velocity === null ? 0 : velocityAddress + 4 * start, mask === null ? 0 : maskAddress + start,
      s.nesterov ? 1 : 0, s.lr, s.momentum, s.weightDecay,
    ));
  });
}
