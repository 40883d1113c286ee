import { UnsupportedError } from '../../errors.ts';
import type { KernelCall } from './arena.ts';
import { MR, NR } from './gemm-kernels.ts';
import { simdInstance, type SimdInstance, type TrainingKernels } from './instance.ts';
import { recordKernels, runParallel, sharesFor } from './parallel.ts';

/*
 * Dense float32 matrix products on the WebAssembly SIMD kernels (gemm-kernels.ts), in the three forms of
 * ../kernels/gemm.ts and with the same contract: row-major, C must not alias A or B, `accumulate` adds to C
 * instead of overwriting it, and every product a·b is formed (so NaN and Inf propagate as in the textbook
 * loop). Operands that are views of the kernels' memory are used in place; others are copied in for the
 * call (and C copied back), see arena.ts.
 *
 * The cache blocking is the GotoBLAS loop nest, driven from here with one kernel call per block:
 *
 *   for jc in n by NC                pack B(pc.., jc..)  kc×nc, ⌈nc/8⌉ micro-panels      ≤ 512 KB, L2
 *     for pc in k by KC
 *       for ic in the rows by MC     pack A(ic.., pc..)  mc×kc, ⌈mc/4⌉ micro-panels      ≤ 128 KB, L2
 *         macroKernel               4×8 tiles over kc; each B micro-panel (8 KB) stays in L1
 *
 * Blocks are split evenly (k = 784 runs as 4 × 196), and the depth blocks depend on k alone, so every
 * output is summed in the same order whichever rows or columns a call computes: a row range [rowStart,
 * rowEnd) gives bit-identical rows to a whole-matrix call, and so does any split of the columns.
 * Cost: 2·m·n·k flops; packing O(m·k·⌈n/NC⌉ + n·k) copies (per call, since the weights change every step).
 *
 * Threads (the count of withThreads / fit's `threads`): C is cut into one block of rows or columns per
 * thread, and each thread runs the loop nest above on its block with its own packing buffers. Each block
 * packs all of the operand it shares with the others, so the cut goes across the longer side of C: rows
 * when m ≥ n (each thread packs B), columns otherwise (each packs A) — the forward X·Wᵀ of a batch of 64
 * through 300 outputs splits the 300. Blocks are multiples of the 4×8 tile, at least MIN_FLOPS_PER_SHARE.
 */

const KC = 256;
const MC = 128;
const NC = 512;

/**
 * The smallest share of one product worth a thread: 1 MFLOP, ~25 µs of SIMD work, against ~5–15 µs to hand
 * a job to the workers and collect it (measured by `bench threads`; LeNet-300-100's 64×100×300 products, 3.8
 * MFLOP, still gain from two threads).
 */
export const MIN_FLOPS_PER_SHARE = 1e6;

/** `total` split into ⌈total/max⌉ near-equal blocks, each a multiple of `multiple`. */
function blockSize(total: number, max: number, multiple: number): number {
  const even = Math.ceil(total / Math.ceil(total / max));
  return Math.ceil(even / multiple) * multiple;
}

function kernels(): SimdInstance {
  const simd = simdInstance();
  if (simd === null) throw new UnsupportedError('the wasm-simd kernels need WebAssembly SIMD, which this JavaScript engine lacks');
  return simd;
}

/** Which rows of C to compute (default: all of them). */
export interface RowRange {
  rowStart?: number;
  rowEnd?: number;
}

/** One product in the kernels' memory: C[rows×n] (+)= A·B, addresses and strides in bytes. */
interface Product {
  rows: number;
  n: number;
  k: number;
  a: number;
  ars: number;
  acs: number;
  b: number;
  brs: number;
  bcs: number;
  c: number;
  ldc: number;
  accumulate: boolean;
}

type GemmKernels = Pick<TrainingKernels, 'packA' | 'packB' | 'macroKernel'>;
const GEMM_KERNELS: (keyof GemmKernels)[] = ['packA', 'packB', 'macroKernel'];

/** The blocked loop nest of the header on one product, with its own packing buffers from `call`. */
function blocked(K: GemmKernels, call: KernelCall, p: Product): void {
  const kb = blockSize(p.k, KC, 1);
  const mb = blockSize(p.rows, MC, MR);
  const nb = blockSize(p.n, NC, NR);
  const packedA = call.scratch(4 * mb * kb);
  const packedB = call.scratch(4 * nb * kb);
  const tile = call.scratch(4 * MR * NR);
  for (let jc = 0; jc < p.n; jc += nb) {
    const nc = Math.min(nb, p.n - jc);
    for (let pc = 0; pc < p.k; pc += kb) {
      const kc = Math.min(kb, p.k - pc);
      K.packB(kc, nc, p.b + pc * p.brs + jc * p.bcs, p.brs, p.bcs, packedB);
      for (let ic = 0; ic < p.rows; ic += mb) {
        const mc = Math.min(mb, p.rows - ic);
        K.packA(mc, kc, p.a + ic * p.ars + pc * p.acs, p.ars, p.acs, packedA);
        const overwrite = pc === 0 && !p.accumulate ? 1 : 0;
        K.macroKernel(mc, nc, kc, packedA, packedB, p.c + ic * p.ldc + 4 * jc, p.ldc, overwrite, tile);
      }
    }
  }
}

/** `p` cut into `shares` blocks of rows (multiples of MR) or columns (multiples of NR), across its longer side. */
function cut(p: Product, shares: number): Product[] {
  const byRows = p.rows >= p.n;
  const length = byRows ? p.rows : p.n;
  const step = blockSize(length, Math.ceil(length / shares), byRows ? MR : NR);
  const parts: Product[] = [];
  for (let start = 0; start < length; start += step) {
    const size = Math.min(step, length - start);
    parts.push(byRows
      ? { ...p, rows: size, a: p.a + start * p.ars, c: p.c + start * p.ldc }
      : { ...p, n: size, b: p.b + start * p.bcs, c: p.c + 4 * start });
  }
  return parts;
}

/**
 * C(i,j) (+)= Σ_p a[i·ars + p·acs] · b[p·brs + j·bcs] for i in [rowStart, rowEnd), j < n, with C(i,j) at
 * c[i·ldc + j]. Strides are in elements. Runs on the threads of the current scope when the product is big
 * enough (see the header). Throws UnsupportedError without WebAssembly SIMD, RangeError for a bad row range,
 * ThreadError when a worker thread fails.
 */
export function simdGemmStrided(
  m: number, n: number, k: number,
  a: Float32Array, ars: number, acs: number,
  b: Float32Array, brs: number, bcs: number,
  c: Float32Array, ldc: number, accumulate: boolean, range: RowRange = {},
): void {
  const { rowStart = 0, rowEnd = m } = range;
  if (!(Number.isInteger(rowStart) && Number.isInteger(rowEnd) && 0 <= rowStart && rowStart <= rowEnd && rowEnd <= m)) {
    throw new RangeError(`simdGemm: rows [${rowStart}, ${rowEnd}) are not a range of the ${m} rows of C`);
  }
  const rows = rowEnd - rowStart;
  if (rows === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = rowStart; i < rowEnd; i++) c.fill(0, i * ldc, i * ldc + n);
    return;
  }
  const simd = kernels();
  simd.arena.call((call) => {
    const product: Product = {
      rows, n, k, accumulate,
      a: call.input(a, rowStart * ars, (rows - 1) * ars + (k - 1) * acs + 1), ars: 4 * ars, acs: 4 * acs,
      b: call.input(b, 0, (k - 1) * brs + (n - 1) * bcs + 1), brs: 4 * brs, bcs: 4 * bcs,
      c: call.output(c, rowStart * ldc, (rows - 1) * ldc + n, accumulate || ldc !== n), ldc: 4 * ldc,
    };
    const shares = sharesFor(simd, 2 * rows * n * k, MIN_FLOPS_PER_SHARE);
    if (shares === 1) {
      blocked(simd.kernels, call, product);
      return;
    }
    const { program, kernels: recorder } = recordKernels<GemmKernels>(simd, GEMM_KERNELS);
    for (const part of cut(product, shares)) {
      program.beginChunk();
      blocked(recorder, call, part);
    }
    runParallel(simd, call, program);
  });
}

/** C[m×n] (+)= A[m×k] · B[k×n] on the SIMD kernels (see simdGemmStrided). */
export function simdGemmNN(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false, range: RowRange = {}): void {
  simdGemmStrided(m, n, k, a, k, 1, b, n, 1, c, n, accumulate, range);
}

/** C[m×n] (+)= A[m×k] · B[n×k]ᵀ on the SIMD kernels — the Linear forward X·Wᵀ (see simdGemmStrided). */
export function simdGemmNT(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false, range: RowRange = {}): void {
  simdGemmStrided(m, n, k, a, k, 1, b, 1, k, c, n, accumulate, range);
}

/** C[m×n] (+)= A[k×m]ᵀ · B[k×n] on the SIMD kernels — the weight gradient dYᵀ·X (see simdGemmStrided). */
export function simdGemmTN(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false, range: RowRange = {}): void {
  simdGemmStrided(m, n, k, a, 1, m, b, n, 1, c, n, accumulate, range);
}
