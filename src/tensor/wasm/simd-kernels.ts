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
 * The optimizer updates run over all of a model's parameters at once: on threads, one job whose chunks are
 * ranges of the parameters laid end to end (a chunk may cover the end of one and the start of the next).
 * Every element is updated by its own arithmetic, and a range starts at a multiple of 4 elements of its
 * parameter, so each element takes the same vector or scalar path as on one thread — the same bits.
 */

/**
 * The smallest share of an optimizer update worth a thread: 32 768 elements (~20 µs of Adam; SGD is cheaper
 * and uses the same threshold). LeNet-300-100's 266 610 parameters make 2 shares on 2 threads.
 */
export const MIN_ELEMENTS_PER_SHARE = 32768;

type UpdateKernels = Pick<TrainingKernels, 'adam' | 'sgd'>;

/** One parameter's part of an update: `run(K, start, count)` updates its elements [start, start + count). */
interface Segment {
  readonly n: number;
  readonly run: (K: UpdateKernels, start: number, count: number) => void;
}

/**
 * Runs every segment over all its elements: at once, or cut into one run of elements per share (ranges of
 * the segments end to end, each starting at a multiple of 4 of its segment) recorded and run on the threads
 * of the current scope.
 */
function elementwise(simd: SimdInstance, call: KernelCall, segments: readonly Segment[]): void {
  const total = segments.reduce((sum, segment) => sum + segment.n, 0);
  const shares = sharesFor(simd, total, MIN_ELEMENTS_PER_SHARE);
  if (shares === 1) {
    for (const segment of segments) if (segment.n > 0) segment.run(simd.kernels, 0, segment.n);
    return;
  }
  const { program, kernels } = recordKernels<UpdateKernels>(simd, ['adam', 'sgd']);
  const perShare = 4 * Math.ceil(total / shares / 4);
  let room = 0;
  for (const segment of segments) {
    for (let start = 0; start < segment.n;) {
      if (room <= 0) {
        program.beginChunk();
        room = perShare;
      }
      const count = Math.min(segment.n - start, 4 * Math.ceil(room / 4));
      segment.run(kernels, start, count);
      start += count;
      room -= count;
    }
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

/** One parameter's operands of an optimizer step: weights, gradient, state buffers and mask (0 = pruned). */
export interface UpdateOperands {
  readonly w: Float32Array;
  readonly g: Float32Array;
  /** Adam: first and second moments; SGD: the velocity, or nothing without momentum. */
  readonly state: readonly Float32Array[];
  readonly mask: Uint8Array | null;
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
 * One Adam step over every parameter, in place: w, g (masked in place when there is a mask), first and
 * second moments state[0] and state[1]. `mask` zeroes the gradient before and the weight and state after.
 */
export function simdAdamAll(simd: SimdInstance, params: readonly UpdateOperands[], s: AdamStep): void {
  const correction1 = 1 - s.beta1 ** s.step;
  const correction2 = 1 - s.beta2 ** s.step;
  const stepSize = (s.lr / correction1) * Math.sqrt(correction2);
  const eps = s.eps * Math.sqrt(correction2);
  simd.arena.call((call) => {
    elementwise(simd, call, params.map(({ w, g, state, mask }) => {
      const n = w.length;
      const maskAt = mask === null ? 0 : call.input(mask, 0, n);
      const [wAt, gAt, mAt, vAt] = [call.output(w, 0, n, true), gradient(call, g, n, mask), call.output(state[0]!, 0, n, true), call.output(state[1]!, 0, n, true)];
      return {
        n,
        run: (K, start, count) => K.adam(
          count, wAt + 4 * start, gAt + 4 * start, mAt + 4 * start, vAt + 4 * start, mask === null ? 0 : maskAt + start, s.decoupled ? 1 : 0,
          s.lr, stepSize, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, eps, s.weightDecay,
        ),
      };
    }));
  });
}

/** One Adam step over n weights (simdAdamAll for one parameter). */
export function simdAdam(simd: SimdInstance, n: number, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, mask: Uint8Array | null, s: AdamStep): void {
  simdAdamAll(simd, [{ w: w.subarray(0, n), g, state: [m, v], mask }], s);
}

/** Settings of one SGD step (as in src/nn/optim/sgd.ts). */
export interface SgdStep {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** One SGD step over every parameter, in place; state[0] is the velocity (none without momentum). Masks as in simdAdamAll. */
export function simdSgdAll(simd: SimdInstance, params: readonly UpdateOperands[], s: SgdStep): void {
  simd.arena.call((call) => {
    elementwise(simd, call, params.map(({ w, g, state, mask }) => {
      const n = w.length;
      const velocity = state[0] ?? null;
      const maskAt = mask === null ? 0 : call.input(mask, 0, n);
      const velocityAt = velocity === null ? 0 : call.output(velocity, 0, n, true);
      const [wAt, gAt] = [call.output(w, 0, n, true), gradient(call, g, n, mask)];
      return {
        n,
        run: (K, start, count) => K.sgd(
          count, wAt + 4 * start, gAt + 4 * start, velocity === null ? 0 : velocityAt + 4 * start, mask === null ? 0 : maskAt + start,
          s.nesterov ? 1 : 0, s.lr, s.momentum, s.weightDecay,
        ),
      };
    }));
  });
}

/** One SGD step over n weights (simdSgdAll for one parameter); `velocity` is null without momentum. */
export function simdSgd(simd: SimdInstance, n: number, w: Float32Array, g: Float32Array, velocity: Float32Array | null, mask: Uint8Array | null, s: SgdStep): void {
  simdSgdAll(simd, [{ w: w.subarray(0, n), g, state: velocity === null ? [] : [velocity], mask }], s);
}
