/*
 * The dense matrix product as WebAssembly SIMD (f32x4), hand-assembled: the GotoBLAS/BLIS scheme of
 * ../kernels/gemm.ts with a 4×8 register tile. Every argument is a size, a byte stride or a byte address in
 * the module's memory; gemm.ts drives the cache blocks and calls these three kernels per block.
 *
 *   packA(mc, kc, a, ars, acs, out)         A(i,p) = a[i·ars + p·acs] (strides in bytes), the mc×kc block,
 *       into ⌈mc/4⌉ micro-panels of kc×4 floats, p-major: out[q][p][r] = A(4q + r, p), rows past mc zero.
 *       Unit stride along p (row-major A): 4×4 transposes with shuffles; along i (Aᵀ stored): 4-float
 *       copies, depth by depth (see packB); otherwise one float at a time. O(mc·kc).
 *   packB(kc, nc, b, brs, bcs, out)         B(p,j) = b[p·brs + j·bcs], the kc×nc block, into ⌈nc/8⌉
 *       micro-panels of kc×8 floats: out[q][p][c] = B(p, 8q + c), columns past nc zero. Unit stride along
 *       j (row-major B): 8-float copies, depth by depth — row p of the block is read in order and written
 *       to depth p of every full panel (panel by panel, each panel read a strided column of 32-byte
 *       pieces: packing B took 84–113 instead of 45–57 µs of a 256×784·784×300 product, which went from
 *       39.4–40.0 to 40.4–41.1 GFLOP/s; `npx tsx experiments/gemm-parts-probe.ts`); along p (Bᵀ stored,
 *       the Linear weight): two 4×4 transposes per 4 values of p; otherwise one float at a time. O(kc·nc).
 *   macroKernel(mc, nc, kc, pa, pb, c, ldc, overwrite, tile)   C[mc×nc] at c (row stride ldc bytes)
 *       (overwrite ? = : +=) packed A block · packed B panel, one 4×8 tile at a time: for each B micro-panel
 *       (it stays in L1) the A micro-panels stream past it. `tile` is 128 bytes of scratch for edge tiles.
 *       O(mc·nc·kc) multiply-adds, ⌈mc/4⌉·⌈nc/8⌉ tiles of 32 outputs.
 *
 * The 4×8 tile: 8 vector accumulators (4 rows × 2 vectors of 4 columns) stay in registers for the whole
 * depth; each step loads 2 vectors of B and splats 4 values of A, then does 8 multiplies and 8 adds
 * (WebAssembly SIMD has no fused multiply-add in Node 20): 6 loads per 16 arithmetic instructions, and 15
 * of the 16 vector registers of x86-64 with the loaded values. Measured on the macro-kernel alone (64×304,
 * depth 196, AMD EPYC): 4×8 45 GFLOP/s, 2×16 44, 3×8 42, 5×8 and 6×8 24–29 (they spill), ≈ 77 % of the
 * f32x4 multiply-add peak (`bench gemm`). What is left is loop overhead V8 adds to every iteration (a stack
 * check and the pointer updates: ~8 instructions next to 22), which unrolling would amortise (see UNROLL).
 *
 * Summation order: each output is the sum over p in order within a depth block, started from zero and then
 * added to C (or stored, for the first block when not accumulating), so the result of one output does not
 * depend on the tile, the row range or the thread that computes it. Accumulation is float32.
 */
import { FunctionBuilder, I32, op, shuffle32, V128 } from '../../wasm/assembler.ts';
import { increment, whileLoop } from '../../wasm/emit.ts';

/** Register tile: rows of A per micro-panel, columns of B per micro-panel. */
export const MR = 4;
export const NR = 8;
/**
 * Depth steps per iteration of the micro-kernel loop. Not unrolled: V8 (Node 20) schedules all loads of an
 * unrolled body first, which needs more than the 16 vector registers and spills accumulators (2 steps
 * measured ~40 % slower, also with a store between the steps).
 */
const UNROLL = 1;

/** 4×4 transpose of rows r[0..3] into columns, with the unpack/move-half shuffles (t are temporaries). */
function transpose4(f: FunctionBuilder, r: number[], t: number[], out: number[]): void {
  const pick = (x: number, y: number, lanes: [number, number, number, number], into: number): void => {
    f.emit(op.get(x), op.get(y), op.i8x16Shuffle(shuffle32(lanes)), op.set(into));
  };
  pick(r[0]!, r[1]!, [0, 4, 1, 5], t[0]!); // r0[0] r1[0] r0[1] r1[1]
  pick(r[0]!, r[1]!, [2, 6, 3, 7], t[1]!); // r0[2] r1[2] r0[3] r1[3]
  pick(r[2]!, r[3]!, [0, 4, 1, 5], t[2]!);
  pick(r[2]!, r[3]!, [2, 6, 3, 7], t[3]!);
  pick(t[0]!, t[2]!, [0, 1, 4, 5], out[0]!); // column 0: r0[0] r1[0] r2[0] r3[0]
  pick(t[0]!, t[2]!, [2, 3, 6, 7], out[1]!);
  pick(t[1]!, t[3]!, [0, 1, 4, 5], out[2]!);
  pick(t[1]!, t[3]!, [2, 3, 6, 7], out[3]!);
}

/**
 * packA and packB are one algorithm: pack `lines` lines of a matrix (rows of A, columns of B) `width` at a
 * time (MR or NR) into micro-panels of depth kc. Element (line l, depth p) is at src + l·lineStride +
 * p·depthStride (bytes).
 */
function packer(name: 'packA' | 'packB', width: number): FunctionBuilder {
  // packA(mc, kc, a, ars, acs, out) / packB(kc, nc, b, brs, bcs, out): bring both to (lines, depth, ...).
  const f = new FunctionBuilder(name, 6);
  const isA = name === 'packA';
  const [lines, depth] = isA ? [0, 1] : [1, 0];
  const [src, lineStride, depthStride] = isA ? [2, 3, 4] : [2, 4, 3];
  const out = 5;
  const l0 = f.local(I32), h = f.local(I32), base = f.local(I32), p = f.local(I32), at = f.local(I32), r = f.local(I32), dst = f.local(I32);
  const depth4 = f.local(I32);
  const lineAt = Array.from({ length: width }, () => f.local(I32));
  const v = Array.from({ length: width }, () => f.local(V128));
  const t = Array.from({ length: 4 }, () => f.local(V128));
  const col = Array.from({ length: width }, () => f.local(V128));
  f.emit(op.get(out), op.set(dst), op.i32(0), op.set(l0));
  f.emit(op.get(depth), op.i32(-4), op.i32And, op.set(depth4));
  // Fast path 2: lines contiguous (unit stride along them, e.g. a row-major B): depth by depth, one run of
  // the full panels' lines copied `width` floats per panel. Reads go in memory order (a panel at a time
  // would read one strided column of short pieces per panel); writes go to one depth of every panel.
  f.emit(op.get(lineStride), op.i32(4), op.i32Eq, op.if);
  {
    const fullLines = f.local(I32), panelBytes = f.local(I32);
    f.emit(op.get(lines), op.i32(-width), op.i32And, op.set(fullLines));
    f.emit(op.get(depth), op.i32(4 * width), op.i32Mul, op.set(panelBytes));
    f.emit(op.i32(0), op.set(p));
    whileLoop(f, () => f.emit(op.get(p), op.get(depth), op.i32GeU), () => {
      f.emit(op.get(src), op.get(p), op.get(depthStride), op.i32Mul, op.i32Add, op.set(at));
      f.emit(op.get(out), op.get(p), op.i32(4 * width), op.i32Mul, op.i32Add, op.set(dst));
      f.emit(op.i32(0), op.set(r));
      whileLoop(f, () => f.emit(op.get(r), op.get(fullLines), op.i32GeU), () => {
        for (let g = 0; g < width / 4; g++) f.emit(op.get(dst), op.get(at), op.v128Load(16 * g), op.v128Store(16 * g));
        increment(f, at, 4 * width);
        increment(f, dst, () => f.emit(op.get(panelBytes)));
        increment(f, r, width);
      });
      increment(f, p, 1);
    });
    // The edge panel, if any, goes through the loop below.
    f.emit(op.get(fullLines), op.set(l0));
    f.emit(op.get(out), op.get(fullLines), op.get(depth), op.i32Mul, op.i32(4), op.i32Mul, op.i32Add, op.set(dst)); // fullLines/width panels
  }
  f.emit(op.end);
  whileLoop(f, () => f.emit(op.get(l0), op.get(lines), op.i32GeU), () => {
    // h = min(width, lines − l0); base = src + l0·lineStride
    f.emit(op.get(lines), op.get(l0), op.i32Sub, op.tee(h), op.i32(width), op.get(h), op.i32(width), op.i32LtU, op.select, op.set(h));
    f.emit(op.get(src), op.get(l0), op.get(lineStride), op.i32Mul, op.i32Add, op.set(base));
    f.emit(op.i32(0), op.set(p));
    // Fast path 1: a full panel whose lines are contiguous along the depth: transpose 4 depths at a time.
    f.emit(op.get(h), op.i32(width), op.i32Eq, op.get(depthStride), op.i32(4), op.i32Eq, op.i32And, op.if);
    lineAt.forEach((local, k) => f.emit(op.get(base), op.i32(k), op.get(lineStride), op.i32Mul, op.i32Add, op.set(local)));
    whileLoop(f, () => f.emit(op.get(p), op.get(depth4), op.i32GeU), () => {
      for (let g = 0; g < width / 4; g++) {
        const rows = v.slice(4 * g, 4 * g + 4);
        rows.forEach((x, k) => f.emit(op.get(lineAt[4 * g + k]!), op.get(p), op.i32(2), op.i32Shl, op.i32Add, op.v128Load(0), op.set(x)));
        transpose4(f, rows, t, col.slice(4 * g, 4 * g + 4));
      }
      // depth p + d of the panel: lines 0..3 from group 0, lines 4..7 from group 1
      for (let d = 0; d < 4; d++) {
        for (let g = 0; g < width / 4; g++) f.emit(op.get(dst), op.get(col[4 * g + d]!), op.v128Store(16 * (d * (width / 4) + g)));
      }
      increment(f, dst, 16 * width);
      increment(f, p, 4);
    });
    f.emit(op.end);
    // Whatever is left (edge panels, the last depths, other strides): one float at a time, zero past h.
    whileLoop(f, () => f.emit(op.get(p), op.get(depth), op.i32GeU), () => {
      f.emit(op.get(base), op.get(p), op.get(depthStride), op.i32Mul, op.i32Add, op.set(at));
      f.emit(op.i32(0), op.set(r));
      whileLoop(f, () => f.emit(op.get(r), op.i32(width), op.i32GeU), () => {
        // Lines past h are padding: never read them (they may lie past the end of the memory).
        f.emit(op.get(dst), op.f32zero, op.f32Store(0));
        f.emit(op.get(r), op.get(h), op.i32LtU, op.if, op.get(dst), op.get(at), op.f32Load(0), op.f32Store(0), op.end);
        increment(f, dst, 4);
        increment(f, at, () => f.emit(op.get(lineStride)));
        increment(f, r, 1);
      });
      increment(f, p, 1);
    });
    increment(f, l0, width);
  });
  return f;
}

/** packA: see the header. */
export function packA(): FunctionBuilder {
  return packer('packA', MR);
}

/** packB: see the header. */
export function packB(): FunctionBuilder {
  return packer('packB', NR);
}

/** macroKernel: see the header. (The tile shape and unrolling are parameters for measuring others.) */
export function macroKernel(MR_ = MR, NR_ = NR, unroll = UNROLL): FunctionBuilder {
  const MR = MR_, NR = NR_;
  const f = new FunctionBuilder('macroKernel', 9);
  const [mc, nc, kc, pa, pb, c, ldc, overwrite, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const jr = f.local(I32), ir = f.local(I32), aPanel = f.local(I32), bPanel = f.local(I32), ap = f.local(I32), bp = f.local(I32);
  const aEnd = f.local(I32), pairEnd = f.local(I32), cTile = f.local(I32), h = f.local(I32), w = f.local(I32), r = f.local(I32), j = f.local(I32), at = f.local(I32), from = f.local(I32);
  const NV = NR / 4;
  const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => f.local(V128)));
  const bv = Array.from({ length: NV }, () => f.local(V128)), a = f.local(V128);
  /** One depth step at constant offsets: acc[r][v] += A(r) · B(v). */
  const step = (aOffset: number, bOffset: number): void => {
    bv.forEach((x, v) => f.emit(op.get(bp), op.v128Load(bOffset + 16 * v), op.set(x)));
    for (let row = 0; row < MR; row++) {
      f.emit(op.get(ap), op.v128Load32Splat(aOffset + 4 * row), op.set(a));
      bv.forEach((x, v) => f.emit(op.get(acc[row]![v]!), op.get(a), op.get(x), op.f32x4Mul, op.f32x4Add, op.set(acc[row]![v]!)));
    }
  };
  const rowBytes = 4 * MR, colBytes = 4 * NR;
  f.emit(op.i32(0), op.set(jr), op.get(pb), op.set(bPanel));
  whileLoop(f, () => f.emit(op.get(jr), op.get(nc), op.i32GeU), () => {
    f.emit(op.i32(0), op.set(ir), op.get(pa), op.set(aPanel));
    whileLoop(f, () => f.emit(op.get(ir), op.get(mc), op.i32GeU), () => {
      for (const pair of acc) for (const x of pair) f.emit(op.v128Zero, op.set(x));
      f.emit(op.get(aPanel), op.set(ap), op.get(bPanel), op.set(bp));
      f.emit(op.get(aPanel), op.get(kc), op.i32(rowBytes), op.i32Mul, op.i32Add, op.tee(aEnd), op.i32(rowBytes * (unroll - 1)), op.i32Sub, op.set(pairEnd));
      // `unroll` depth steps per iteration, then the last kc mod unroll one at a time.
      whileLoop(f, () => f.emit(op.get(ap), op.get(pairEnd), op.i32GeU), () => {
        for (let u = 0; u < unroll; u++) step(u * rowBytes, u * colBytes);
        increment(f, ap, unroll * rowBytes);
        increment(f, bp, unroll * colBytes);
      });
      if (unroll > 1) {
        whileLoop(f, () => f.emit(op.get(ap), op.get(aEnd), op.i32GeU), () => {
          step(0, 0);
          increment(f, ap, rowBytes);
          increment(f, bp, colBytes);
        });
      }
      // The tile's place in C, and its valid extent h×w (edge tiles are partial).
      f.emit(op.get(c), op.get(ir), op.get(ldc), op.i32Mul, op.i32Add, op.get(jr), op.i32(2), op.i32Shl, op.i32Add, op.set(cTile));
      f.emit(op.get(mc), op.get(ir), op.i32Sub, op.tee(h), op.i32(MR), op.get(h), op.i32(MR), op.i32LtU, op.select, op.set(h));
      f.emit(op.get(nc), op.get(jr), op.i32Sub, op.tee(w), op.i32(NR), op.get(w), op.i32(NR), op.i32LtU, op.select, op.set(w));
      f.emit(op.get(h), op.i32(MR), op.i32Eq, op.get(w), op.i32(NR), op.i32Eq, op.i32And, op.if);
      {
        // A full tile: straight to C, two vectors per row.
        f.emit(op.get(cTile), op.set(at));
        for (let row = 0; row < MR; row++) {
          for (let v = 0; v < NV; v++) {
            const x = acc[row]![v]!;
            f.emit(op.get(at));
            f.emit(op.get(x), op.get(at), op.v128Load(16 * v), op.get(x), op.f32x4Add, op.get(overwrite), op.select);
            f.emit(op.v128Store(16 * v));
          }
          increment(f, at, () => f.emit(op.get(ldc)));
        }
      }
      f.emit(op.end);
      f.emit(op.get(h), op.i32(MR), op.i32Ne, op.get(w), op.i32(NR), op.i32Ne, op.i32Or, op.if);
      {
        // An edge tile: through `tile`, then only its h×w valid outputs, one float at a time.
        acc.forEach((pair, row) => pair.forEach((x, v) => f.emit(op.get(tile), op.get(x), op.v128Store(4 * NR * row + 16 * v))));
        f.emit(op.i32(0), op.set(r));
        whileLoop(f, () => f.emit(op.get(r), op.get(h), op.i32GeU), () => {
          f.emit(op.get(cTile), op.get(r), op.get(ldc), op.i32Mul, op.i32Add, op.set(at));
          f.emit(op.get(tile), op.get(r), op.i32(4 * NR), op.i32Mul, op.i32Add, op.set(from));
          f.emit(op.i32(0), op.set(j));
          whileLoop(f, () => f.emit(op.get(j), op.get(w), op.i32GeU), () => {
            f.emit(op.get(at), op.get(from), op.f32Load(0), op.get(at), op.f32Load(0), op.get(from), op.f32Load(0), op.f32Add, op.get(overwrite), op.select, op.f32Store(0));
            increment(f, at, 4);
            increment(f, from, 4);
            increment(f, j, 1);
          });
          increment(f, r, 1);
        });
      }
      f.emit(op.end);
      increment(f, ir, MR);
      increment(f, aPanel, () => f.emit(op.get(kc), op.i32(rowBytes), op.i32Mul));
    });
    increment(f, jr, NR);
    increment(f, bPanel, () => f.emit(op.get(kc), op.i32(colBytes), op.i32Mul));
  });
  return f;
}
