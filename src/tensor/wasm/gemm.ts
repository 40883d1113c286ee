import { UnsupportedError } from '../../errors.ts';
import { MR, NR } from './gemm-kernels.ts';
import { simdInstance, type SimdInstance } from './instance.ts';

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
 * output is summed in the same order whichever rows a call computes: a row range [rowStart, rowEnd) gives
 * bit-identical rows to a whole-matrix call, which lets threads split the rows of C between them.
 * Cost: 2·m·n·k flops; packing O(m·k·⌈n/NC⌉ + n·k) copies (per call, since the weights change every step).
 */

const KC = 256;
const MC = 128;
const NC = 512;

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

/**
 * C(i,j) (+)= Σ_p a[i·ars + p·acs] · b[p·brs + j·bcs] for i in [rowStart, rowEnd), j < n, with C(i,j) at
 * c[i·ldc + j]. Strides are in elements. Throws UnsupportedError without WebAssembly SIMD.
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
  const { kernels: K, arena } = kernels();
  arena.call((call) => {
    const aAddress = call.input(a, rowStart * ars, (rows - 1) * ars + (k - 1) * acs + 1);
    const bAddress = call.input(b, 0, (k - 1) * brs + (n - 1) * bcs + 1);
    const cAddress = call.output(c, rowStart * ldc, (rows - 1) * ldc + n, accumulate || ldc !== n);
    const kb = blockSize(k, KC, 1);
    const mb = blockSize(rows, MC, MR);
    const nb = blockSize(n, NC, NR);
    const packedA = call.scratch(4 * mb * kb);
    const packedB = call.scratch(4 * nb * kb);
    const tile = call.scratch(4 * MR * NR);
    for (let jc = 0; jc < n; jc += nb) {
      const nc = Math.min(nb, n - jc);
      for (let pc = 0; pc < k; pc += kb) {
        const kc = Math.min(kb, k - pc);
        K.packB(kc, nc, bAddress + 4 * (pc * brs + jc * bcs), 4 * brs, 4 * bcs, packedB);
        for (let ic = 0; ic < rows; ic += mb) {
          const mc = Math.min(mb, rows - ic);
          K.packA(mc, kc, aAddress + 4 * (ic * ars + pc * acs), 4 * ars, 4 * acs, packedA);
          const overwrite = pc === 0 && !accumulate ? 1 : 0;
          K.macroKernel(mc, nc, kc, packedA, packedB, cAddress + 4 * (ic * ldc + jc), 4 * ldc, overwrite, tile);
        }
      }
    }
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
