import { describe, expect, it } from 'vitest';
import { gemmNN, gemmNT, gemmTN } from '../../src/tensor/kernels/gemm.ts';
import { Rng } from '../../src/tensor/rng.ts';
import type { FloatArray } from '../../src/tensor/tensor.ts';
import { referenceAbsMatmul, referenceMatmul } from '../reference/dense.ts';

/*
 * Every kernel form, with and without accumulation, in float32 and float64, against the naive float64
 * oracle. Shapes are chosen on purpose: empty, vectors, primes, and each size ±1 around the kernel's
 * tile (MR×NR = 2×4, the 8-wide small-m blocks), its small-m cut-off (3) and its cache blocks
 * (KC = 256, MC = 128, NC = 512, each split evenly, so 2·block ± 1 too).
 *
 * Tolerance: the dot-product error bound |ĉ − c| ≤ c0·k·ε·(Σ|a·b| + |c_initial|) + tiny, with ε the
 * machine epsilon of the output type. Inputs carry NaN tails and C carries sentinels past m·n, so a
 * kernel that reads or writes outside its operands fails too.
 */

type Form = 'NN' | 'NT' | 'TN';
type DType = 'float32' | 'float64';
type Kernel = (m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate?: boolean) => void;

const KERNELS: Record<Form, Kernel> = { NN: gemmNN, NT: gemmNT, TN: gemmTN };
const FORMS: Form[] = ['NN', 'NT', 'TN'];
const DTYPES: DType[] = ['float32', 'float64'];
const EPS: Record<DType, number> = { float32: 2 ** -23, float64: 2 ** -52 };
const C0 = 2;
const TINY = 1e-300;
/** Elements past the logical end of every array. */
const PAD = 5;
const SENTINEL = 12345.5;

function allocate(dtype: DType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** `length` normal deviates followed by PAD NaNs (reading them would poison the result). */
function randomArray(dtype: DType, length: number, rng: Rng): FloatArray {
  const x = allocate(dtype, length + PAD);
  for (let i = 0; i < length; i++) x[i] = rng.normal();
  x.fill(Number.NaN, length);
  return x;
}

interface Case {
  form: Form;
  m: number;
  n: number;
  k: number;
  dtype: DType;
  accumulate: boolean;
}

interface Run {
  got: FloatArray;
  expected: Float64Array;
  bound: Float64Array;
}

/** Runs one kernel call on seeded random data and returns the result next to the oracle and the bound. */
function runCase({ form, m, n, k, dtype, accumulate }: Case, rng: Rng, fill?: (a: FloatArray, b: FloatArray) => void): Run {
  const a = randomArray(dtype, m * k, rng);
  const b = randomArray(dtype, k * n, rng);
  fill?.(a, b);
  const c = allocate(dtype, m * n + PAD);
  if (accumulate) for (let i = 0; i < m * n; i++) c[i] = rng.normal();
  else c.fill(Number.NaN, 0, m * n); // garbage that must be overwritten
  c.fill(SENTINEL, m * n);
  const initial = Float64Array.from(c.subarray(0, m * n));

  const options = { transA: form === 'TN', transB: form === 'NT' };
  const product = referenceMatmul(m, n, k, a, b, options);
  const scale = referenceAbsMatmul(m, n, k, a, b, options);
  KERNELS[form](m, n, k, a, b, c, accumulate);

  const expected = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) {
    expected[i] = accumulate ? initial[i]! + product[i]! : product[i]!;
    bound[i] = C0 * Math.max(k, 1) * EPS[dtype] * (scale[i]! + (accumulate ? Math.abs(initial[i]!) : 0)) + TINY;
  }
  return { got: c, expected, bound };
}

/** The first disagreement, described, or null. Non-finite expectations must be matched exactly. */
function mismatch(run: Run, label: string): string | null {
  const { got, expected, bound } = run;
  const size = expected.length;
  for (let i = 0; i < size; i++) {
    const g = got[i]!;
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(g) : Number.isFinite(e) ? Math.abs(g - e) <= bound[i]! : g === e;
    if (!ok) return `${label}: element ${i} is ${g}, expected ${e} (allowed error ${bound[i]!.toExponential(2)})`;
  }
  for (let i = size; i < got.length; i++) {
    if (got[i] !== SENTINEL) return `${label}: wrote past the end of C at ${i} (${got[i]})`;
  }
  return null;
}

function label({ form, m, n, k, dtype, accumulate }: Case): string {
  return `gemm${form} m=${m} n=${n} k=${k} ${dtype}${accumulate ? ' accumulate' : ''}`;
}

/** Every form × dtype × accumulate for each shape; returns the mismatches. */
function checkShapes(shapes: readonly (readonly [number, number, number])[], seed: number): string[] {
  const rng = new Rng(seed);
  const failures: string[] = [];
  for (const [m, n, k] of shapes) {
    for (const form of FORMS) {
      for (const dtype of DTYPES) {
        for (const accumulate of [false, true]) {
          const testCase = { form, m, n, k, dtype, accumulate };
          const error = mismatch(runCase(testCase, rng), label(testCase));
          if (error !== null) failures.push(error);
        }
      }
    }
  }
  return failures;
}

function cartesian(ms: number[], ns: number[], ks: number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const m of ms) for (const n of ns) for (const k of ks) out.push([m, n, k]);
  return out;
}

describe('gemm kernels vs the float64 reference', () => {
  it('handles empty matrices: k = 0 gives zeros, or leaves C when accumulating', () => {
    const shapes: [number, number, number][] = [
      [0, 0, 0], [0, 5, 7], [5, 0, 7], [0, 0, 3], [5, 7, 0], [1, 1, 0], [2, 9, 0], [9, 2, 0], [64, 300, 0],
    ];
    expect(checkShapes(shapes, 1)).toEqual([]);
  });

  it('handles scalars, row and column vectors', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 1, 257], [1, 257, 1], [257, 1, 1], [1, 300, 784], [1, 9, 13], [257, 1, 13], [13, 1, 257], [1, 1, 1000],
    ];
    expect(checkShapes(shapes, 2)).toEqual([]);
  });

  it('handles prime sizes', () => {
    const shapes = cartesian([7, 13, 31], [7, 13, 31], [7, 13, 31]).concat([[257, 31, 13], [31, 257, 7], [13, 7, 257]]);
    expect(checkShapes(shapes, 3)).toEqual([]);
  });

  it('handles every size around the register tile and the small-m cut-off', () => {
    const shapes = cartesian([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17], [1, 2, 3, 8]);
    expect(checkShapes(shapes, 4)).toEqual([]);
  });

  it('handles every size around the cache blocks', () => {
    const shapes: [number, number, number][] = [
      // KC = 256 (even split: 512 → 2×256, 513 → 3×171)
      ...cartesian([6], [9], [255, 256, 257, 511, 512, 513]),
      ...cartesian([2], [9], [255, 256, 257]),
      // MC = 128
      ...cartesian([127, 128, 129, 255, 256, 257], [6], [5]),
      // NC = 512
      ...cartesian([5], [511, 512, 513, 1025], [4]),
      // all of them at once, and the layer shapes used in training
      [129, 513, 257],
      [64, 300, 97],
    ];
    expect(checkShapes(shapes, 5)).toEqual([]);
  });

  it('agrees on random shapes', () => {
    const rng = new Rng(6);
    const sizes = [1, 2, 3, 4, 5, 7, 8, 10, 13, 16, 31, 33, 64, 100, 129];
    const pick = (): number => sizes[rng.int(sizes.length)]!;
    const failures: string[] = [];
    for (let trial = 0; trial < 120; trial++) {
      const testCase: Case = {
        form: FORMS[rng.int(3)]!,
        m: pick(),
        n: pick(),
        k: pick(),
        dtype: DTYPES[rng.int(2)]!,
        accumulate: rng.int(2) === 1,
      };
      const error = mismatch(runCase(testCase, rng), label(testCase));
      if (error !== null) failures.push(error);
    }
    expect(failures).toEqual([]);
  });

  it('computes the training shapes (forward X·Wᵀ, weight gradient dYᵀ·X, input gradient dY·W)', () => {
    const rng = new Rng(7);
    const cases: Case[] = [
      { form: 'NT', m: 64, n: 300, k: 784, dtype: 'float32', accumulate: false },
      { form: 'TN', m: 300, n: 784, k: 64, dtype: 'float32', accumulate: true },
      { form: 'NN', m: 64, n: 784, k: 300, dtype: 'float32', accumulate: false },
      { form: 'NT', m: 3, n: 100, k: 300, dtype: 'float64', accumulate: false },
    ];
    for (const testCase of cases) expect(mismatch(runCase(testCase, rng), label(testCase))).toBeNull();
  });
});

describe('gemm kernels: IEEE special values', () => {
  // op(A)(0,0) = Inf meets op(B)(0,0) = 0, and op(A)(2,1) = 0 meets op(B)(1,2) = Inf: both C(0,0) and
  // C(2,2) must be NaN (a kernel that skips zeros in either operand gives a finite number). Column 1 of
  // op(B) is positive, so C(0,1) = Inf·2 + finite = Inf; op(A)(1,0) = NaN makes row 1 NaN throughout;
  // op(B)(0,n−1) = 0 makes C(0,n−1) NaN as well, and op(A)(m−1,0) = −Inf makes C(m−1,1) = −Inf and
  // C(m−1,n−1) NaN.
  function poison(form: Form, m: number, n: number, k: number) {
    return (a: FloatArray, b: FloatArray): void => {
      const A = (i: number, p: number): number => (form === 'TN' ? p * m + i : i * k + p);
      const B = (p: number, j: number): number => (form === 'NT' ? j * k + p : p * n + j);
      a[A(0, 0)] = Number.POSITIVE_INFINITY;
      a[A(1, 0)] = Number.NaN;
      a[A(2, 1)] = 0;
      a[A(m - 1, 0)] = Number.NEGATIVE_INFINITY; // the last row usually goes through edge/tail code
      for (let p = 0; p < k; p++) b[B(p, 1)] = Math.abs(b[B(p, 1)]!);
      b[B(0, 0)] = 0;
      b[B(0, 1)] = 2;
      b[B(1, 2)] = Number.POSITIVE_INFINITY;
      b[B(0, n - 1)] = 0; // the last column usually goes through a kernel's edge/tail code
    };
  }

  for (const form of FORMS) {
    // small-m path, packed path, small-n path
    for (const [m, n, k] of [[3, 9, 3], [6, 9, 7], [9, 3, 4]] as const) {
      it(`propagates NaN and Inf in gemm${form} (m=${m}, n=${n}, k=${k})`, () => {
        for (const dtype of DTYPES) {
          for (const accumulate of [false, true]) {
            const testCase = { form, m, n, k, dtype, accumulate };
            const run = runCase(testCase, new Rng(8), poison(form, m, n, k));
            expect(Number.isNaN(run.expected[0]!)).toBe(true);
            expect(run.expected[1]).toBe(Number.POSITIVE_INFINITY);
            expect(Number.isNaN(run.expected[2 * n + 2]!)).toBe(true);
            expect(Number.isNaN(run.expected[n - 1]!)).toBe(true);
            expect(run.expected[(m - 1) * n + 1]).toBe(Number.NEGATIVE_INFINITY);
            expect(Number.isNaN(run.expected[(m - 1) * n + n - 1]!)).toBe(true);
            expect(mismatch(run, label(testCase))).toBeNull();
          }
        }
      });
    }
  }
});

describe('gemm test harness', () => {
  it('rejects a result that is off by more than the error bound', () => {
    const testCase: Case = { form: 'NN', m: 6, n: 9, k: 20, dtype: 'float32', accumulate: false };
    const run = runCase(testCase, new Rng(9));
    expect(mismatch(run, 'exact')).toBeNull();
    run.got[7] = run.got[7]! + 1e-3 * (Math.abs(run.got[7]!) + 1);
    expect(mismatch(run, 'perturbed')).toMatch(/element 7/);
    run.got[7] = run.expected[7]!;
    run.got[6 * 9] = 0;
    expect(mismatch(run, 'overrun')).toMatch(/past the end/);
  });
});
