import type { FloatArray } from '../tensor.ts';

/*
 * Dense matrix products in the three orientations that training needs, so that backward never
 * materialises a transpose. All matrices are row-major and contiguous; C must not alias A or B.
 *
 *   gemmNN: C[m×n] = A[m×k] · B[k×n]
 *   gemmNT: C[m×n] = A[m×k] · B[n×k]ᵀ     (Linear forward: X · Wᵀ with W stored [out, in])
 *   gemmTN: C[m×n] = A[k×m]ᵀ · B[k×n]     (weight gradient: dYᵀ · X)
 *
 * With `accumulate` the product is added to C, otherwise C is overwritten. Every product a·b is
 * formed, zeros included, so 0·Inf and NaN propagate exactly as in the textbook triple loop.
 * Products and sums are formed in JS doubles; C is rounded to its element type once per depth block
 * (⌈k/256⌉ times at most). Complexity: O(m·n·k) multiply-adds, O(m·n + (m + n)·k) packing traffic.
 *
 * All three forms are one strided problem, C(i,j) = Σ_p A(i,p)·B(p,j) with
 *   A(i,p) = a[i·ars + p·acs]   and   B(p,j) = b[p·brs + j·bcs],
 * and the exported functions only choose the strides. Two algorithms solve it:
 *
 * 1. Small m (≤ SMALL_M, the batch-1..3 inference shapes; or small n, by computing Cᵀ = Bᵀ·Aᵀ):
 *    dot products straight from the caller's arrays, 1×8 or 2×4 outputs at a time, each accumulated
 *    over the whole of k in JS doubles. Packing would cost as much as the product itself here, because
 *    every element of B is used only m times.
 *
 * 2. Otherwise, the GotoBLAS/BLIS scheme (Goto & van de Geijn, "Anatomy of high-performance matrix
 *    multiplication", TOMS 2008; Van Zee & van de Geijn, BLIS, TOMS 2015):
 *
 *      for jc in n by NC                      B panel  kc×nc   packed once per (jc, pc)    ~1 MB, L2
 *        for pc in k by KC                    A block  mc×kc   packed once per (jc, pc, ic) ~256 KB, L2
 *          pack B(pc.., jc..) into NR-wide micro-panels
 *          for ic in m by MC
 *            pack A(ic.., pc..) into MR-tall micro-panels
 *            for jr in nc by NR               one B micro-panel (kc×NR, 8 KB) stays in L1
 *              for ir in mc by MR             stream A micro-panels from L2
 *                MR×NR micro-kernel over kc, then add the tile into C
 *
 *    Packing copies the operands, whatever their orientation, into Float64Array panels laid out in
 *    exactly the order the micro-kernel reads them (p-major, MR or NR values per step). That makes the
 *    one hot loop orientation-free and monomorphic (it only ever sees Float64Array, so V8 compiles a
 *    single fast version) and saves the float32→float64 conversion in it; Float32 panels measured
 *    15–25 % slower. Panels are zero-padded to full MR/NR so the micro-kernel has no edge cases;
 *    padded results land in rows/columns that are never copied out.
 *
 * Why MR×NR = 2×4: V8 compiles JS numbers to scalar SSE2 doubles in 16 registers, and TurboFan
 * schedules all the products of an iteration before their sums, so an MR×NR tile wants ~2·MR·NR
 * registers: the textbook 4×4 spills about half of them to the stack each step, 2×4 only two. What
 * limits speed is instruction count (each typed-array load carries a bounds check and address
 * arithmetic: ~8 x86 instructions per multiply-add here), and 2×4, 3×3, 3×4 and 4×4 all measured
 * within ±10 % of each other (4–5 GFLOP/s on an idle core); 2×4 spills least, and 2 and 4 divide
 * every layer width we use (64, 100, 300, 784). KC is split evenly (k = 784 runs as 4 × 196, not
 * 3 × 256 + 16); MC and NC likewise.
 */

/**
 * Rows and columns of the register tile. microKernel, the full-tile update in macroKernel and the
 * full-panel loops of packA/packB are written out for 2×4: change them together.
 */
const MR = 2;
const NR = 4;
/** Cache blocking: k-depth of a panel, rows of a packed A block, columns of a packed B panel. */
const KC = 256;
const MC = 128;
const NC = 512;
/** Up to this many rows (or columns) of C, the unpacked dot-product path is used. */
const SMALL_M = 3;

/** Packed A block at [0, bOffset), packed B panel after it. Grown on demand, never shrunk. */
let packed = new Float64Array(0);
/** The micro-kernel's MR×NR result, before it is added into C. */
const tile = new Float64Array(MR * NR);

/**
 * C[m×n] (+)= A[m×k] · B[k×n]. Sizes: a.length ≥ m·k, b.length ≥ k·n, c.length ≥ m·n.
 * k = 0 gives C = 0 (or leaves C unchanged when accumulating).
 */
export function gemmNN(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  gemmStrided(m, n, k, a, k, 1, b, n, 1, c, accumulate);
}

/**
 * C[m×n] (+)= A[m×k] · B[n×k]ᵀ — the Linear forward X·Wᵀ with W stored [out, in]. Both operands are read
 * along their contiguous rows. Sizes: a.length ≥ m·k, b.length ≥ n·k, c.length ≥ m·n.
 */
export function gemmNT(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  gemmStrided(m, n, k, a, k, 1, b, 1, k, c, accumulate);
}

/**
 * C[m×n] (+)= A[k×m]ᵀ · B[k×n] — the weight gradient dYᵀ·X. Sizes: a.length ≥ k·m, b.length ≥ k·n,
 * c.length ≥ m·n.
 */
export function gemmTN(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate = false): void {
  gemmStrided(m, n, k, a, 1, m, b, n, 1, c, accumulate);
}

/** C(i,j) (+)= Σ_p a[i·ars + p·acs] · b[p·brs + j·bcs], C row-major m×n. Picks the algorithm. */
function gemmStrided(
  m: number, n: number, k: number,
  a: FloatArray, ars: number, acs: number,
  b: FloatArray, brs: number, bcs: number,
  c: FloatArray, accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  if (m <= SMALL_M) smallGemm(m, n, k, a, ars, acs, b, brs, bcs, c, n, 1, accumulate);
  // Few columns: compute Cᵀ[n×m] = Bᵀ·Aᵀ, i.e. swap the operands' roles and write C column by column.
  else if (n <= SMALL_M) smallGemm(n, m, k, b, bcs, brs, a, acs, ars, c, 1, n, accumulate);
  else packedGemm(m, n, k, a, ars, acs, b, brs, bcs, c, accumulate);
}

// ---------------------------------------------------------------------------------------------------
// Path 1: few rows. Dot products over the whole of k, straight from the caller's arrays.
// ---------------------------------------------------------------------------------------------------

/**
 * C(i,j) (+)= Σ_p A(i,p)·B(p,j) for m small, with C(i,j) = c[i·crs + j·ccs]. Rows are taken two at a
 * time (2×4 blocks: 6 loads per 8 multiply-adds), a last odd row 8 columns at a time (9 loads per 8).
 * Complexity O(m·n·k); B is streamed ⌈m/2⌉ times. The `| 0` on indices is explained at microKernel.
 */
function smallGemm(
  m: number, n: number, k: number,
  a: FloatArray, ars: number, acs: number,
  b: FloatArray, brs: number, bcs: number,
  c: FloatArray, crs: number, ccs: number, accumulate: boolean,
): void {
  let i = 0;
  for (; i + 1 < m; i += 2) smallRows2(n, k, a, i * ars, ars, acs, b, brs, bcs, c, i * crs, crs, ccs, accumulate);
  if (i < m) smallRow1(n, k, a, i * ars, acs, b, brs, bcs, c, i * crs, ccs, accumulate);
}

/** Writes (or adds) one finished dot product. Small enough for V8 to inline. */
function put(c: FloatArray, index: number, value: number, accumulate: boolean): void {
  c[index] = accumulate ? c[index]! + value : value;
}

/** One row of C: c[cOff + j·ccs] (+)= Σ_p a[aOff + p·acs] · B(p,j), eight columns per pass. */
function smallRow1(
  n: number, k: number,
  a: FloatArray, aOff: number, acs: number,
  b: FloatArray, brs: number, bcs: number,
  c: FloatArray, cOff: number, ccs: number, accumulate: boolean,
): void {
  const d1 = bcs, d2 = 2 * bcs, d3 = 3 * bcs, d4 = 4 * bcs, d5 = 5 * bcs, d6 = 6 * bcs, d7 = 7 * bcs;
  let j = 0;
  for (; j + 7 < n; j += 8) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let p = 0, ia = aOff, ib = j * bcs; p < k; p++, ia = (ia + acs) | 0, ib = (ib + brs) | 0) {
      const x = a[ia]!;
      s0 += x * b[ib]!;
      s1 += x * b[(ib + d1) | 0]!;
      s2 += x * b[(ib + d2) | 0]!;
      s3 += x * b[(ib + d3) | 0]!;
      s4 += x * b[(ib + d4) | 0]!;
      s5 += x * b[(ib + d5) | 0]!;
      s6 += x * b[(ib + d6) | 0]!;
      s7 += x * b[(ib + d7) | 0]!;
    }
    const o = cOff + j * ccs;
    put(c, o, s0, accumulate);
    put(c, o + ccs, s1, accumulate);
    put(c, o + 2 * ccs, s2, accumulate);
    put(c, o + 3 * ccs, s3, accumulate);
    put(c, o + 4 * ccs, s4, accumulate);
    put(c, o + 5 * ccs, s5, accumulate);
    put(c, o + 6 * ccs, s6, accumulate);
    put(c, o + 7 * ccs, s7, accumulate);
  }
  for (; j < n; j++) {
    let s = 0;
    for (let p = 0, ia = aOff, ib = j * bcs; p < k; p++, ia += acs, ib += brs) s += a[ia]! * b[ib]!;
    put(c, cOff + j * ccs, s, accumulate);
  }
}

/** Two rows of C (row offsets cOff and cOff + crs), four columns per pass. */
function smallRows2(
  n: number, k: number,
  a: FloatArray, aOff: number, ars: number, acs: number,
  b: FloatArray, brs: number, bcs: number,
  c: FloatArray, cOff: number, crs: number, ccs: number, accumulate: boolean,
): void {
  const d1 = bcs, d2 = 2 * bcs, d3 = 3 * bcs;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    for (let p = 0, ia = aOff, ib = j * bcs; p < k; p++, ia = (ia + acs) | 0, ib = (ib + brs) | 0) {
      const x0 = a[ia]!, x1 = a[(ia + ars) | 0]!;
      const b0 = b[ib]!, b1 = b[(ib + d1) | 0]!, b2 = b[(ib + d2) | 0]!, b3 = b[(ib + d3) | 0]!;
      s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
      s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
    }
    const o0 = cOff + j * ccs, o1 = o0 + crs;
    put(c, o0, s00, accumulate);
    put(c, o0 + ccs, s01, accumulate);
    put(c, o0 + 2 * ccs, s02, accumulate);
    put(c, o0 + 3 * ccs, s03, accumulate);
    put(c, o1, s10, accumulate);
    put(c, o1 + ccs, s11, accumulate);
    put(c, o1 + 2 * ccs, s12, accumulate);
    put(c, o1 + 3 * ccs, s13, accumulate);
  }
  for (; j < n; j++) {
    let s0 = 0, s1 = 0;
    for (let p = 0, ia = aOff, ib = j * bcs; p < k; p++, ia += acs, ib += brs) {
      const bv = b[ib]!;
      s0 += a[ia]! * bv;
      s1 += a[ia + ars]! * bv;
    }
    const o = cOff + j * ccs;
    put(c, o, s0, accumulate);
    put(c, o + crs, s1, accumulate);
  }
}

// ---------------------------------------------------------------------------------------------------
// Path 2: packed, cache-blocked GEMM (see the header for the loop nest).
// ---------------------------------------------------------------------------------------------------

/** `total` split into ⌈total/max⌉ near-equal blocks, each a multiple of `multiple`. */
function blockSize(total: number, max: number, multiple: number): number {
  const even = Math.ceil(total / Math.ceil(total / max));
  return Math.ceil(even / multiple) * multiple;
}

/** C (+)= A·B through packed Float64 panels; C row-major with row stride n. */
function packedGemm(
  m: number, n: number, k: number,
  a: FloatArray, ars: number, acs: number,
  b: FloatArray, brs: number, bcs: number,
  c: FloatArray, accumulate: boolean,
): void {
  if (!accumulate) c.fill(0, 0, m * n);
  const kb = blockSize(k, KC, 1);
  const mb = blockSize(m, MC, MR);
  const nb = blockSize(n, NC, NR);
  const bOffset = mb * kb;
  if (packed.length < bOffset + nb * kb) packed = new Float64Array(bOffset + nb * kb);
  const buf = packed;
  for (let jc = 0; jc < n; jc += nb) {
    const nc = Math.min(nb, n - jc);
    for (let pc = 0; pc < k; pc += kb) {
      const kc = Math.min(kb, k - pc);
      packB(kc, nc, b, pc * brs + jc * bcs, brs, bcs, buf, bOffset);
      for (let ic = 0; ic < m; ic += mb) {
        const mc = Math.min(mb, m - ic);
        packA(mc, kc, a, ic * ars + pc * acs, ars, acs, buf, 0);
        macroKernel(mc, nc, kc, buf, bOffset, c, ic * n + jc, n);
      }
    }
  }
}

/**
 * Packs the kc×nc block B(p,j) = b[off + p·brs + j·bcs] into ⌈nc/NR⌉ micro-panels at out[o..]: panel q
 * holds columns q·NR..q·NR+NR−1 as kc consecutive groups of NR values (zero-padded past nc).
 */
function packB(kc: number, nc: number, b: FloatArray, off: number, brs: number, bcs: number, out: Float64Array, o: number): void {
  const d1 = bcs, d2 = 2 * bcs, d3 = 3 * bcs;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = Math.min(NR, nc - j0);
    let src = off + j0 * bcs;
    if (w === NR) {
      for (let p = 0; p < kc; p++, src += brs, o += NR) {
        out[o] = b[src]!;
        out[o + 1] = b[src + d1]!;
        out[o + 2] = b[src + d2]!;
        out[o + 3] = b[src + d3]!;
      }
    } else {
      for (let p = 0; p < kc; p++, src += brs, o += NR) {
        for (let j = 0; j < NR; j++) out[o + j] = j < w ? b[src + j * bcs]! : 0;
      }
    }
  }
}

/**
 * Packs the mc×kc block A(i,p) = a[off + i·ars + p·acs] into ⌈mc/MR⌉ micro-panels at out[o..]: panel q
 * holds rows q·MR..q·MR+MR−1 as kc consecutive groups of MR values (zero-padded past mc).
 */
function packA(mc: number, kc: number, a: FloatArray, off: number, ars: number, acs: number, out: Float64Array, o: number): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const h = Math.min(MR, mc - i0);
    let src = off + i0 * ars;
    if (h === MR) {
      for (let p = 0; p < kc; p++, src += acs, o += MR) {
        out[o] = a[src]!;
        out[o + 1] = a[src + ars]!;
      }
    } else {
      for (let p = 0; p < kc; p++, src += acs, o += MR) {
        for (let i = 0; i < MR; i++) out[o + i] = i < h ? a[src + i * ars]! : 0;
      }
    }
  }
}

/**
 * C[mc×nc] at c[cOff..] (row stride ldc) += packed A block · packed B panel, one MR×NR tile at a time.
 * The B micro-panel is the outer loop so that it stays in L1 while the A micro-panels stream past it.
 */
function macroKernel(mc: number, nc: number, kc: number, buf: Float64Array, bOffset: number, c: FloatArray, cOff: number, ldc: number): void {
  const t = tile;
  for (let jr = 0; jr < nc; jr += NR) {
    const w = Math.min(NR, nc - jr);
    const pb = bOffset + jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const h = Math.min(MR, mc - ir);
      microKernel(kc, buf, ir * kc, pb, t);
      const o0 = cOff + ir * ldc + jr;
      if (h === MR && w === NR) {
        const o1 = o0 + ldc;
        c[o0]! += t[0]!; c[o0 + 1]! += t[1]!; c[o0 + 2]! += t[2]!; c[o0 + 3]! += t[3]!;
        c[o1]! += t[4]!; c[o1 + 1]! += t[5]!; c[o1 + 2]! += t[6]!; c[o1 + 3]! += t[7]!;
      } else {
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) c[o0 + i * ldc + j]! += t[i * NR + j]!;
      }
    }
  }
}

/**
 * The 2×4 register tile: t = Σ_{p<kc} (A micro-panel column p) ⊗ (B micro-panel row p), reading
 * buf[pa + 2p + 0..1] and buf[pb + 4p + 0..3]. Eight accumulators live in registers for the whole loop;
 * each step loads 6 values for 8 multiply-adds. The `| 0` keeps the index arithmetic in int32, which
 * lets V8 drop its overflow checks from the loop.
 */
function microKernel(kc: number, buf: Float64Array, pa: number, pb: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  const end = pa + kc * MR;
  for (let ia = pa, ib = pb; ia < end; ia = (ia + MR) | 0, ib = (ib + NR) | 0) {
    const a0 = buf[ia]!, a1 = buf[(ia + 1) | 0]!;
    const b0 = buf[ib]!, b1 = buf[(ib + 1) | 0]!, b2 = buf[(ib + 2) | 0]!, b3 = buf[(ib + 3) | 0]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
}
