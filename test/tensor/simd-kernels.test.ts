import { describe, expect, it } from 'vitest';
import { Adam, AdamW, Parameter, SGD } from '../../src/nn/index.ts';
import type { Optimizer } from '../../src/nn/optim/optimizer.ts';
import { withBackend } from '../../src/tensor/backend.ts';
import { addRowVectorInPlace, binaryKernel, unaryKernel } from '../../src/tensor/kernels/elementwise.ts';
import { sumAxisKernel } from '../../src/tensor/kernels/reduce.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { simdAdam, simdAdd, simdAddRowVector, simdInstance, simdRelu, simdReluBackward, simdSgd, simdSumRows } from '../../src/tensor/wasm/index.ts';

/*
 * Every SIMD elementwise, reduction and optimizer kernel against the TypeScript code it replaces. The
 * elementwise kernels and row sums must give the same bits (one float32 operation per output, or float32
 * sums in the same order). The optimizers keep float32 state where TypeScript keeps float64, so weights
 * agree to float32 rounding: |Δw| ≤ 1e-6 after a few steps at lr 1e-2. Sizes cover the vector loops' scalar
 * tails (n mod 4 ≠ 0); operands are ordinary arrays (copied for the call) or views of the kernels' memory.
 */

const simd = simdInstance()!;
const SIZES = [0, 1, 3, 4, 5, 17, 1001];

function values(n: number, rng: Rng, resident = false): Float32Array {
  const x = resident ? simd.arena.persistentF32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  if (n > 2) {
    x[0] = -0;
    x[1] = Number.NaN;
    x[2] = 0;
  }
  return x;
}

/** Same bits (NaN payloads aside). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)));
}

describe('SIMD elementwise kernels vs TypeScript (bit for bit)', () => {
  for (const resident of [false, true]) {
    it(`relu, reluBackward and add${resident ? ' in the kernels\' memory' : ''}`, () => {
      const rng = new Rng(1);
      const mark = simd.arena.mark();
      for (const n of SIZES) {
        const x = values(n, rng, resident), dy = values(n, rng, resident), other = values(n, rng, resident);
        const out = resident ? simd.arena.persistentF32(n) : new Float32Array(n);
        const expected = new Float32Array(n);
        simdRelu(simd, n, x, out);
        unaryKernel('relu', n, x, expected);
        expect(sameBits(out, expected), `relu n=${n}`).toBe(true);
        simdReluBackward(simd, n, x, dy, out);
        for (let i = 0; i < n; i++) expected[i] = x[i]! > 0 ? dy[i]! : 0;
        expect(sameBits(out, expected), `reluBackward n=${n}`).toBe(true);
        simdAdd(simd, n, x, other, out);
        binaryKernel('add', n, x, null, other, null, expected);
        expect(sameBits(out, expected), `add n=${n}`).toBe(true);
        unaryKernel('relu', n, x, expected);
        simdRelu(simd, n, x, x); // in place
        expect(sameBits(x, expected), `relu in place n=${n}`).toBe(true);
      }
      simd.arena.release(mark);
    });
  }

  it('addRowVector and sumRows on every shape around the vector width', () => {
    const rng = new Rng(2);
    for (const [rows, cols] of [[0, 5], [3, 0], [1, 1], [2, 3], [5, 4], [7, 9], [64, 300], [1, 17]] as const) {
      const y = values(rows * cols, rng), bias = values(cols, rng);
      const expected = y.slice();
      simdAddRowVector(simd, rows, cols, y, bias);
      addRowVectorInPlace(rows, cols, expected, bias);
      expect(sameBits(y, expected), `addRowVector ${rows}×${cols}`).toBe(true);
      const sums = new Float32Array(cols).fill(Number.NaN), expectedSums = new Float32Array(cols);
      simdSumRows(simd, rows, cols, y, sums);
      sumAxisKernel(1, rows, cols, y, expectedSums);
      expect(sameBits(sums, expectedSums), `sumRows ${rows}×${cols}`).toBe(true);
    }
  });
});

/** The same parameter in two copies: one for the TypeScript optimizer, one for the SIMD kernel. */
function twin(n: number, rng: Rng, mask: Uint8Array | null): { p: Parameter; w: Float32Array } {
  const w = new Float32Array(n).map(() => rng.normal());
  const p = new Parameter(new Tensor(w.slice(), [n]));
  if (mask !== null) p.setMask(mask.slice());
  return { p, w: Float32Array.from(p.value.data) };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('SIMD optimizer kernels vs the TypeScript optimizers', () => {
  const masks = (n: number): (Uint8Array | null)[] => [null, Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1))];

  it('Adam and AdamW, with and without a mask, on every size', () => {
    const rng = new Rng(3);
    for (const n of SIZES) {
      for (const mask of masks(n)) {
        for (const decoupled of [false, true]) {
          const { p, w } = twin(n, rng, mask);
          const options = { lr: 0.01, weightDecay: 0.05 };
          const reference: Optimizer = decoupled ? new AdamW([p], options) : new Adam([p], options);
          const m = new Float32Array(n), v = new Float32Array(n);
          for (let step = 1; step <= 4; step++) {
            const g = new Float32Array(n).map(() => rng.normal());
            p.grad = new Tensor(g.slice(), [n]);
            reference.step();
            const gSimd = g.slice();
            simdAdam(simd, n, w, gSimd, m, v, mask, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, decoupled, step });
            expect(maxDifference(w, p.value.data), `adam n=${n} mask=${mask !== null} decoupled=${decoupled}`).toBeLessThan(1e-6);
            if (mask !== null) {
              for (let i = 0; i < n; i++) {
                if (mask[i] === 0) expect([w[i], m[i], v[i], gSimd[i]]).toEqual([0, 0, 0, 0]);
                else expect(gSimd[i]).toBe(g[i]);
              }
            }
          }
        }
      }
    }
  });

  it('SGD: plain, momentum and Nesterov, with and without a mask', () => {
    const rng = new Rng(4);
    for (const n of SIZES) {
      for (const mask of masks(n)) {
        for (const [momentum, nesterov] of [[0, false], [0.9, false], [0.9, true]] as const) {
          const { p, w } = twin(n, rng, mask);
          const reference = new SGD([p], { lr: 0.05, momentum, nesterov, weightDecay: 0.01 });
          const velocity = momentum > 0 ? new Float32Array(n) : null;
          for (let step = 1; step <= 4; step++) {
            const g = new Float32Array(n).map(() => rng.normal());
            p.grad = new Tensor(g.slice(), [n]);
            reference.step();
            simdSgd(simd, n, w, g, velocity, mask, { lr: 0.05, momentum, nesterov, weightDecay: 0.01 });
            expect(maxDifference(w, p.value.data), `sgd n=${n} momentum=${momentum} nesterov=${nesterov}`).toBeLessThan(1e-6);
            if (mask !== null && velocity !== null) for (let i = 0; i < n; i++) if (mask[i] === 0) expect(velocity[i]).toBe(0);
          }
        }
      }
    }
  });

  it('runs a subclass that overrides only `update` with its own arithmetic on the wasm-simd backend too', () => {
    class SignSgd extends SGD {
      protected override update(w: Float32Array, g: Float32Array): void {
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - this.lr * Math.sign(g[i]!);
      }
    }
    const { p } = twin(5, new Rng(7), null);
    const before = Float32Array.from(p.value.data);
    p.grad = new Tensor(Float32Array.from([3, -2, 0.5, -0.25, 0]), [5]);
    withBackend('wasm-simd', () => new SignSgd([p], { lr: 0.5 }).step());
    expect(Array.from(p.value.data)).toEqual(Array.from(before, (w, i) => Math.fround(w - 0.5 * Math.sign([3, -2, 0.5, -0.25, 0][i]!))));
  });

  it('Optimizer.step takes the SIMD path on the wasm-simd backend (float32 state) and keeps masks', () => {
    const rng = new Rng(5);
    const n = 103;
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const { p: onJs } = twin(n, new Rng(6), mask);
    const { p: onSimd } = twin(n, new Rng(6), mask);
    const js = new Adam([onJs], { lr: 0.01 });
    const simdAdamOptimizer = new Adam([onSimd], { lr: 0.01 });
    // The kernel by hand on a third copy: the optimizer must give exactly its bits.
    const byHand = Float32Array.from(onSimd.value.data), m = new Float32Array(n), v = new Float32Array(n);
    for (let step = 1; step <= 3; step++) {
      const g = new Float32Array(n).map(() => rng.normal());
      onJs.grad = new Tensor(g.slice(), [n]);
      onSimd.grad = new Tensor(g.slice(), [n]);
      js.step();
      withBackend('wasm-simd', () => simdAdamOptimizer.step());
      simdAdam(simd, n, byHand, g.slice(), m, v, mask, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step });
      expect(sameBits(onSimd.value.data as Float32Array, byHand)).toBe(true);
      expect(maxDifference(onSimd.value.data, onJs.value.data)).toBeLessThan(1e-6);
    }
    for (let i = 0; i < n; i++) if (mask[i] === 0) expect([onSimd.value.data[i], onSimd.grad!.data[i]]).toEqual([0, 0]);
    // The SIMD path converted the state to float32; the TypeScript path continues from it.
    const g = new Float32Array(n).map(() => rng.normal());
    onJs.grad = new Tensor(g.slice(), [n]);
    onSimd.grad = new Tensor(g.slice(), [n]);
    js.step();
    simdAdamOptimizer.step();
    expect(maxDifference(onSimd.value.data, onJs.value.data)).toBeLessThan(1e-6);
  });
});
