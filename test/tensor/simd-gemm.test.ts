import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/rng.ts';
import { createSimdInstance, simdGemmNN, simdGemmNT, simdGemmStrided, simdGemmTN, simdInstance, type RowRange, type SimdInstance } from '../../src/tensor/wasm/index.ts';
import { referenceAbsMatmul, referenceMatmul } from '../reference/dense.ts';

/*
 * The SIMD GEMM in its three forms against the naive float64 oracle, on the awkward shapes: empty, vectors,
 * primes, each size ±1 around the 4×8 register tile (15/16/17 …), non-multiples of every cache block
 * (KC = 256, MC = 128, NC = 512) and k = 0. Every call gets a fresh C filled with NaN (garbage that must be
 * overwritten) with sentinels past its end, and operands with NaN tails, so reading or writing outside the
 * operands fails too. Operands are ordinary arrays (copied in and out for the call) or views of the kernels'
 * memory (used in place), and C is computed whole or by row ranges, which must give the same bits.
 *
 * Tolerance: the dot-product bound |ĉ − c| ≤ 2·k·2⁻²³·(Σ|a·b| + |c₀|), the float32 rounding of k sums.
 */

type Form = 'NN' | 'NT' | 'TN';
const FORMS: Form[] = ['NN', 'NT', 'TN'];
const KERNELS = { NN: simdGemmNN, NT: simdGemmNT, TN: simdGemmTN };
const PAD = 5;
const SENTINEL = 12345.5;
const simd = simdInstance()!;

/** `length` values followed by PAD NaNs; in the kernels' memory when `resident`. */
function operand(length: number, rng: Rng, resident: boolean): Float32Array {
  const x = resident ? simd.arena.persistentF32(length + PAD) : new Float32Array(length + PAD);
  for (let i = 0; i < length; i++) x[i] = rng.normal();
  return x.fill(Number.NaN, length);
}

interface Case {
  form: Form;
  m: number;
  n: number;
  k: number;
  accumulate?: boolean;
  resident?: boolean;
  /** Compute C in these row ranges (consecutive, covering all rows) instead of one call. */
  split?: number[];
}

/** Runs a case; returns a description of the first wrong element, or null. */
function check(c: Case, rng: Rng): string | null {
  const { form, m, n, k, accumulate = false, resident = false } = c;
  const mark = simd.arena.mark();
  try {
    const a = operand(m * k, rng, resident);
    const b = operand(k * n, rng, resident);
    const out = resident ? simd.arena.persistentF32(m * n + PAD) : new Float32Array(m * n + PAD);
    if (accumulate) for (let i = 0; i < m * n; i++) out[i] = rng.normal();
    else out.fill(Number.NaN, 0, m * n);
    out.fill(SENTINEL, m * n);
    const initial = Float64Array.from(out.subarray(0, m * n));
    const options = { transA: form === 'TN', transB: form === 'NT' };
    const [product, scale] = oracle(m, n, k, a, b, options);
    const ranges: RowRange[] = c.split === undefined ? [{}] : c.split.slice(0, -1).map((rowStart, i) => ({ rowStart, rowEnd: c.split![i + 1]! }));
    for (const range of ranges) KERNELS[form](m, n, k, a, b, out, accumulate, range);
    const label = `simdGemm${form} m=${m} n=${n} k=${k}${accumulate ? ' accumulate' : ''}${resident ? ' resident' : ''}${c.split ? ` rows ${c.split.join('|')}` : ''}`;
    for (let i = 0; i < m * n; i++) {
      if (Number.isNaN(product[i]!) && Number.isNaN(scale[i]!)) continue; // a row the oracle skipped
      const expected = (accumulate ? initial[i]! : 0) + product[i]!;
      const bound = 2 * Math.max(k, 1) * 2 ** -23 * (scale[i]! + (accumulate ? Math.abs(initial[i]!) : 0)) + 1e-30;
      const got = out[i]!;
      const ok = Number.isNaN(expected) ? Number.isNaN(got) : Number.isFinite(expected) ? Math.abs(got - expected) <= bound : got === expected;
      if (!ok) return `${label}: element ${i} is ${got}, expected ${expected} (allowed error ${bound.toExponential(2)})`;
    }
    for (let i = m * n; i < out.length; i++) if (out[i] !== SENTINEL) return `${label}: wrote past the end of C at ${i}`;
    return null;
  } finally {
    simd.arena.release(mark);
  }
}

/**
 * The float64 product and Σ|a·b| (referenceMatmul, referenceAbsMatmul); for big problems only on a few rows
 * (first, second, middle, last), the others NaN, to keep the test fast.
 */
function oracle(m: number, n: number, k: number, a: Float32Array, b: Float32Array, options: { transA: boolean; transB: boolean }): [Float64Array, Float64Array] {
  if (m * n * k <= 2e5) return [referenceMatmul(m, n, k, a, b, options), referenceAbsMatmul(m, n, k, a, b, options)];
  const product = new Float64Array(m * n).fill(Number.NaN);
  const scale = new Float64Array(m * n).fill(Number.NaN);
  for (const i of new Set([0, 1, m >> 1, m - 1].filter((r) => r < m))) {
    // the rows of op(A) as a 1×k matrix, times op(B)
    const row = Float64Array.from({ length: k }, (_, p) => (options.transA ? a[p * m + i]! : a[i * k + p]!));
    const one = { transA: false, transB: options.transB };
    product.set(referenceMatmul(1, n, k, row, b, one), i * n);
    scale.set(referenceAbsMatmul(1, n, k, row, b, one), i * n);
  }
  return [product, scale];
}

function checkAll(cases: Case[], seed: number): string[] {
  const rng = new Rng(seed);
  return cases.map((c) => check(c, rng)).filter((e): e is string => e !== null);
}

function shapes(ms: number[], ns: number[], ks: number[]): [number, number, number][] {
  return ms.flatMap((m) => ns.flatMap((n) => ks.map((k): [number, number, number] => [m, n, k])));
}

function everyForm(list: [number, number, number][], extra: Partial<Case> = {}): Case[] {
  return list.flatMap(([m, n, k]) => FORMS.flatMap((form) => [false, true].map((accumulate) => ({ form, m, n, k, accumulate, ...extra }))));
}

describe('SIMD GEMM vs the float64 reference', () => {
  it('handles empty matrices and k = 0 (zeros, or C unchanged when accumulating)', () => {
    expect(checkAll(everyForm([[0, 0, 0], [0, 5, 7], [5, 0, 7], [5, 7, 0], [1, 1, 0], [17, 9, 0], [64, 300, 0]]), 1)).toEqual([]);
  });

  it('handles scalars, row and column vectors', () => {
    expect(checkAll(everyForm([[1, 1, 1], [1, 1, 257], [1, 257, 1], [257, 1, 1], [1, 300, 784], [1, 9, 13], [13, 1, 257]]), 2)).toEqual([]);
  });

  it('handles primes and every size around the 4×8 tile', () => {
    const list = [...shapes([7, 13, 31], [7, 13, 31], [7, 13, 31]), ...shapes([1, 2, 3, 4, 5, 7, 8, 9], [1, 7, 8, 9, 15, 16, 17], [1, 2, 3, 4, 5, 17])];
    expect(checkAll(everyForm(list), 3)).toEqual([]);
  });

  it('handles every size around the cache blocks', () => {
    const list: [number, number, number][] = [
      ...shapes([6], [9], [255, 256, 257, 513]),
      ...shapes([127, 128, 129, 257], [6], [5]),
      ...shapes([5], [511, 512, 513, 1025], [4]),
      [129, 513, 257],
      [64, 300, 97],
    ];
    expect(checkAll(everyForm(list), 4)).toEqual([]);
  });

  it('computes the training shapes in place in the kernels\' memory', () => {
    const list: [number, number, number][] = [[64, 300, 784], [300, 784, 64], [64, 784, 300], [64, 100, 300], [100, 300, 64], [64, 10, 100], [33, 17, 15]];
    expect(checkAll(everyForm(list, { resident: true }), 5)).toEqual([]);
  });

  it('gives the same bits for any split of the rows (what threads will rely on)', () => {
    for (const form of FORMS) {
      for (const [m, n, k] of [[64, 300, 97], [37, 19, 300], [300, 17, 64]] as const) {
        const rng = new Rng(6);
        const a = operand(m * k, rng, false);
        const b = operand(k * n, rng, false);
        const whole = new Float32Array(m * n).fill(Number.NaN);
        KERNELS[form](m, n, k, a, b, whole);
        for (const split of [[0, 1, m], [0, 3, 17, m], [0, Math.floor(m / 2), m]]) {
          const parts = new Float32Array(m * n).fill(Number.NaN);
          for (let i = 0; i + 1 < split.length; i++) KERNELS[form](m, n, k, a, b, parts, false, { rowStart: split[i]!, rowEnd: split[i + 1]! });
          expect(Buffer.from(parts.buffer).equals(Buffer.from(whole.buffer)), `${form} ${m}×${n}×${k} rows ${split.join('|')}`).toBe(true);
        }
      }
    }
    expect(checkAll([{ form: 'NT', m: 9, n: 10, k: 11, split: [0, 4, 5, 9] }, { form: 'TN', m: 9, n: 10, k: 11, accumulate: true, split: [0, 8, 9] }], 7)).toEqual([]);
  });

  it('writes only its rows and leaves the gaps of a wider C (ldc > n) alone', () => {
    const rng = new Rng(8);
    const [m, n, k, ldc] = [6, 5, 7, 9];
    const a = operand(m * k, rng, false);
    const b = operand(k * n, rng, false);
    const c = new Float32Array(m * ldc).fill(SENTINEL);
    simdGemmStrided(m, n, k, a, k, 1, b, n, 1, c, ldc, false, { rowStart: 1, rowEnd: 5 });
    const product = referenceMatmul(m, n, k, a, b);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const got = c[i * ldc + j]!;
        if (i >= 1 && i < 5 && j < n) expect(Math.abs(got - product[i * n + j]!)).toBeLessThan(1e-5);
        else expect(got).toBe(SENTINEL);
      }
    }
    expect(() => simdGemmNN(2, 2, 2, a, b, c, false, { rowStart: 1, rowEnd: 3 })).toThrow(RangeError);
  });

  it('works the same without a shared memory (every operand copied in and out)', () => {
    const ordinary: SimdInstance = createSimdInstance({ shared: false })!;
    expect(ordinary.arena.shared).toBe(false);
    const rng = new Rng(9);
    const [m, n, k] = [17, 15, 16];
    const a = operand(m * k, rng, false);
    const b = operand(k * n, rng, false);
    const viaShared = new Float32Array(m * n);
    simdGemmNT(m, n, k, a, b, viaShared);
    // The module-level instance is the shared one; run the same product on the ordinary one by hand.
    const call = (memory: SimdInstance, out: Float32Array): void => memory.arena.call((c) => {
      const packedA = c.scratch(4 * 20 * k), packedB = c.scratch(4 * 16 * k), tile = c.scratch(128); // ⌈m/4⌉·4 and ⌈n/8⌉·8 rows
      const [aa, bb, cc] = [c.input(a, 0, m * k), c.input(b, 0, n * k), c.output(out, 0, m * n, false)];
      memory.kernels.packB(k, n, bb, 4, 4 * k, packedB);
      memory.kernels.packA(m, k, aa, 4 * k, 4, packedA);
      memory.kernels.macroKernel(m, n, k, packedA, packedB, cc, 4 * n, 1, tile);
    });
    const viaOrdinary = new Float32Array(m * n);
    call(ordinary, viaOrdinary);
    expect(Buffer.from(viaOrdinary.buffer).equals(Buffer.from(viaShared.buffer))).toBe(true);
  });
});

describe('SIMD GEMM: IEEE special values', () => {
  // As in gemm.test.ts: Inf·0 and NaN must propagate (a kernel that skipped zeros would give a number).
  for (const form of FORMS) {
    it(`propagates NaN and Inf in simdGemm${form}`, () => {
      for (const [m, n, k] of [[5, 9, 3], [9, 17, 5]] as const) {
        const a = new Float32Array(m * k).fill(1);
        const b = new Float32Array(k * n).fill(1);
        const A = (i: number, p: number): number => (form === 'TN' ? p * m + i : i * k + p);
        const B = (p: number, j: number): number => (form === 'NT' ? j * k + p : p * n + j);
        a[A(0, 0)] = Number.POSITIVE_INFINITY;
        b[B(0, 0)] = 0;
        a[A(m - 1, 1)] = Number.NaN;
        b[B(2, n - 1)] = Number.NEGATIVE_INFINITY;
        const c = new Float32Array(m * n).fill(7);
        KERNELS[form](m, n, k, a, b, c);
        expect(Number.isNaN(c[0]!)).toBe(true); // Inf·0
        expect(c[1]).toBe(Number.POSITIVE_INFINITY);
        expect(Number.isNaN(c[(m - 1) * n + 3]!)).toBe(true); // a NaN row, in an edge tile
        expect(c[2 * n - 1]).toBe(Number.NEGATIVE_INFINITY); // row 1 meets −Inf in the last (edge) column
        expect(c[n + 1]).toBe(k);
      }
    });
  }
});
