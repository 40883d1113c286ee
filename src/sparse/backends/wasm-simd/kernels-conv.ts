/*
 * Convolution kernels on WebAssembly SIMD (conventions in kernels.ts; every address is a byte address). A
 * convolution of one image is computed over "tiles" of 16 output positions: 4 vectors of 4 consecutive output
 * columns, each vector v with the byte offset in[v] of its receptive field's origin in the prepared input X
 * (see conv.ts: the zero-padded, stride-phase-split image, where patch row k of every position sits
 * rowOffsets[k] bytes after its origin) and the byte offset out[v] of its 4 outputs in an output plane. A tile
 * is 8 i32 at `tile`: in[0..3], out[0..3]. The output's spatial positions are the vector dimension, so the
 * kernels vectorise at batch 1.
 *
 *   convCsrTiles(nRows, indptr, offsets, values, bias, relu, nTiles, tiles, x, y, planeBytes)
 *       Direct sparse convolution (Park et al. 2017's loop, vectorised over positions): for each tile and
 *       output channel (CSR row) r, acc_v = bias[r] + Σ_p values[p] · X[in[v] + offsets[p]] (4 lanes each), then
 *       ReLU when relu ≠ 0, stored at y + r·planeBytes + out[v]. offsets[p] = rowOffsets[column of p]: each
 *       nonzero adds a shifted window of the input into its output plane, no patch matrix is built.
 *       O(16·nnz·nTiles + 16·nRows·nTiles).
 *   im2colTile16(nRows, rowOffsets, tile, x, panel)
 *       The tile's patch matrix as a 16-wide panel (kernels.ts layout): panel[k·16 + 4v + l] = X[in[v] +
 *       rowOffsets[k] + 4l] for the nRows = C·kh·kw patch rows; then any panel kernel (densePanel16,
 *       bsrPanel16, spmmPanel16) multiplies the weight matrix with it. O(16·nRows).
 *   scatterTile16(nRows, tile, panel, y, planeBytes)
 *       A panel kernel's output [nRows × 16] back to the planes: y + r·planeBytes + out[v] ← panel[r·16 + 4v..].
 *       O(16·nRows).
 *   pool2d(max, planes, kh, kw, sh, sw, outH, outW, inRowBytes, inPlaneBytes, x, y, scale)
 *       Max (max ≠ 0; NaN propagates) or average (Σ·scale) pooling without padding of `planes` planes whose
 *       rows are inRowBytes apart, into compact planes [outH × outW]. A 1×1 window copies (compacts a padded
 *       plane). O(planes·outH·outW·kh·kw).
 *   pool2x2(max, planes, outH, outW, inRowBytes, inPlaneBytes, x, y)
 *       pool2d for the common 2×2 window with stride 2, 4 outputs per step (f32x4.max propagates NaN too).
 *       Reads 8·⌈outW/4⌉ columns of each input row and writes 4·⌈outW/4⌉ outputs per output row, the extra
 *       ones into the next row's place before that row is written: callers give the input and the output
 *       slack past their ends (conv.ts). O(planes·outH·outW).
 * Lanes of a tile past the end of an output row compute garbage that lands in the plane's padding columns,
 * and a short last tile repeats its last vector; callers size X and the planes for that (conv.ts).
 */
import { F32, FunctionBuilder, I32, op, V128, type ValueType } from '../../../wasm/assembler.ts';
import { element, increment, whileLoop } from '../../../wasm/emit.ts';
import { applyRelu, startAtBias } from './kernel-idioms.ts';

/** Loads the tile's 8 offsets (in[0..3], out[0..3]) from `tile` into the given locals, adding `base` to the in offsets. */
function loadTile(f: FunctionBuilder, tile: number, base: number, inAt: readonly number[], outAt: readonly number[]): void {
  inAt.forEach((local, v) => f.emit(op.get(base), op.get(tile), op.i32Load(4 * v), op.i32Add, op.set(local)));
  outAt.forEach((local, v) => f.emit(op.get(tile), op.i32Load(16 + 4 * v), op.set(local)));
}

/** Builds convCsrTiles (see the top of this file). */
export function convCsrTiles(): FunctionBuilder {
  const f = new FunctionBuilder('convCsrTiles', 11);
  const [nRows, indptr, offsets, values, bias, relu, nTiles, tiles, x, y, planeBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const t = f.local(I32), tile = f.local(I32), row = f.local(I32), p = f.local(I32), end = f.local(I32), address = f.local(I32), plane = f.local(I32);
  const inAt = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const outAt = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const weight = f.local(V128), offset = f.local(I32);
  f.emit(op.i32(0), op.set(t), op.get(tiles), op.set(tile));
  whileLoop(f, () => f.emit(op.get(t), op.get(nTiles), op.i32GeU), () => {
    loadTile(f, tile, x, inAt, outAt);
    f.emit(op.i32(0), op.set(row), op.get(y), op.set(plane));
    whileLoop(f, () => f.emit(op.get(row), op.get(nRows), op.i32GeU), () => {
      element(f, indptr, row);
      f.emit(op.tee(address), op.i32Load(0), op.i32(2), op.i32Shl, op.set(p));
      f.emit(op.get(address), op.i32Load(4), op.i32(2), op.i32Shl, op.set(end));
      startAtBias(f, bias, row, acc);
      whileLoop(f, () => f.emit(op.get(p), op.get(end), op.i32GeU), () => {
        f.emit(op.get(values), op.get(p), op.i32Add, op.v128Load32Splat(0), op.set(weight));
        f.emit(op.get(offsets), op.get(p), op.i32Add, op.i32Load(0), op.set(offset));
        acc.forEach((a, v) => f.emit(op.get(a), op.get(weight), op.get(inAt[v]!), op.get(offset), op.i32Add, op.v128Load(0), op.f32x4Mul, op.f32x4Add, op.set(a)));
        increment(f, p, 4);
      });
      applyRelu(f, relu, acc, true);
      acc.forEach((a, v) => f.emit(op.get(plane), op.get(outAt[v]!), op.i32Add, op.get(a), op.v128Store(0)));
      increment(f, plane, () => f.emit(op.get(planeBytes)));
      increment(f, row, 1);
    });
    increment(f, tile, 32);
    increment(f, t, 1);
  });
  return f;
}

/** Builds im2colTile16 (see the top of this file). */
export function im2colTile16(): FunctionBuilder {
  const f = new FunctionBuilder('im2colTile16', 5);
  const [nRows, rowOffsets, tile, x, panel] = [0, 1, 2, 3, 4];
  const r = f.local(I32), at = f.local(I32), offset = f.local(I32);
  const inAt = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const unused = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  loadTile(f, tile, x, inAt, unused);
  f.emit(op.i32(0), op.set(r), op.get(panel), op.set(at));
  whileLoop(f, () => f.emit(op.get(r), op.get(nRows), op.i32GeU), () => {
    element(f, rowOffsets, r);
    f.emit(op.i32Load(0), op.set(offset));
    inAt.forEach((local, v) => f.emit(op.get(at), op.get(local), op.get(offset), op.i32Add, op.v128Load(0), op.v128Store(16 * v)));
    increment(f, at, 64);
    increment(f, r, 1);
  });
  return f;
}

/** Builds scatterTile16 (see the top of this file). */
export function scatterTile16(): FunctionBuilder {
  const f = new FunctionBuilder('scatterTile16', 5);
  const [nRows, tile, panel, y, planeBytes] = [0, 1, 2, 3, 4];
  const r = f.local(I32), at = f.local(I32), plane = f.local(I32), zero = f.local(I32);
  const unused = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const outAt = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  loadTile(f, tile, zero, unused, outAt);
  f.emit(op.i32(0), op.set(r), op.get(panel), op.set(at), op.get(y), op.set(plane));
  whileLoop(f, () => f.emit(op.get(r), op.get(nRows), op.i32GeU), () => {
    outAt.forEach((local, v) => f.emit(op.get(plane), op.get(local), op.i32Add, op.get(at), op.v128Load(16 * v), op.v128Store(0)));
    increment(f, at, 64);
    increment(f, plane, () => f.emit(op.get(planeBytes)));
    increment(f, r, 1);
  });
  return f;
}

/** Builds pool2d (see the top of this file). */
export function pool2d(): FunctionBuilder {
  const params: ValueType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32];
  const f = new FunctionBuilder('pool2d', 13, params);
  const [max, planes, kh, kw, sh, sw, outH, outW, inRowBytes, inPlaneBytes, x, y, scale] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const p = f.local(I32), oy = f.local(I32), ox = f.local(I32), i = f.local(I32), j = f.local(I32);
  const planeAt = f.local(I32), rowAt = f.local(I32), windowAt = f.local(I32), at = f.local(I32), out = f.local(I32);
  const acc = f.local(F32), value = f.local(F32), stepY = f.local(I32), stepX = f.local(I32);
  f.emit(op.get(inRowBytes), op.get(sh), op.i32Mul, op.set(stepY), op.get(sw), op.i32(2), op.i32Shl, op.set(stepX));
  f.emit(op.i32(0), op.set(p), op.get(x), op.set(planeAt), op.get(y), op.set(out));
  whileLoop(f, () => f.emit(op.get(p), op.get(planes), op.i32GeU), () => {
    f.emit(op.i32(0), op.set(oy), op.get(planeAt), op.set(rowAt));
    whileLoop(f, () => f.emit(op.get(oy), op.get(outH), op.i32GeU), () => {
      f.emit(op.i32(0), op.set(ox), op.get(rowAt), op.set(windowAt));
      whileLoop(f, () => f.emit(op.get(ox), op.get(outW), op.i32GeU), () => {
        // The first element starts the maximum (or the sum): the windows hold no padding.
        f.emit(op.get(max), op.if, op.get(windowAt), op.f32Load(0), op.set(acc), op.else, op.f32zero, op.set(acc), op.end);
        f.emit(op.i32(0), op.set(i));
        whileLoop(f, () => f.emit(op.get(i), op.get(kh), op.i32GeU), () => {
          f.emit(op.get(windowAt), op.get(i), op.get(inRowBytes), op.i32Mul, op.i32Add, op.set(at), op.i32(0), op.set(j));
          whileLoop(f, () => f.emit(op.get(j), op.get(kw), op.i32GeU), () => {
            f.emit(op.get(at), op.f32Load(0), op.set(value));
            // f32.max propagates NaN, as the TypeScript pooling does.
            f.emit(op.get(max), op.if, op.get(acc), op.get(value), op.f32Max, op.set(acc), op.else, op.get(acc), op.get(value), op.f32Add, op.set(acc), op.end);
            increment(f, at, 4);
            increment(f, j, 1);
          });
          increment(f, i, 1);
        });
        f.emit(op.get(max), op.i32Eqz, op.if, op.get(acc), op.get(scale), op.f32Mul, op.set(acc), op.end);
        f.emit(op.get(out), op.get(acc), op.f32Store(0));
        increment(f, out, 4);
        increment(f, windowAt, () => f.emit(op.get(stepX)));
        increment(f, ox, 1);
      });
      increment(f, rowAt, () => f.emit(op.get(stepY)));
      increment(f, oy, 1);
    });
    increment(f, planeAt, () => f.emit(op.get(inPlaneBytes)));
    increment(f, p, 1);
  });
  return f;
}

const EVEN_FLOATS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD_FLOATS = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

/**
 * Builds pool2x2 (see the top of this file): pool2d for the 2×2 window with stride 2, four outputs per step —
 * the two input rows' 8 columns are combined lanewise, then the even and odd columns (a shuffle) are.
 */
export function pool2x2(): FunctionBuilder {
  const f = new FunctionBuilder('pool2x2', 8);
  const [max, planes, outH, outW, inRowBytes, inPlaneBytes, x, y] = [0, 1, 2, 3, 4, 5, 6, 7];
  const p = f.local(I32), oy = f.local(I32), block = f.local(I32), blocks = f.local(I32);
  const planeAt = f.local(I32), rowAt = f.local(I32), at = f.local(I32), out = f.local(I32), rowOut = f.local(I32);
  const left = f.local(V128), right = f.local(V128), result = f.local(V128);
  /** The two rows' columns [at + offset, +4) combined: max, or sum. */
  // (A block without parameters cannot take operands from outside it: each branch loads its own.)
  const combineRows = (offset: number, into: number): void => {
    const rows = (): void => void f.emit(op.get(at), op.v128Load(offset), op.get(at), op.get(inRowBytes), op.i32Add, op.v128Load(offset));
    f.emit(op.get(max), op.if);
    rows();
    f.emit(op.f32x4Max, op.set(into), op.else);
    rows();
    f.emit(op.f32x4Add, op.set(into), op.end);
  };
  const evenAndOdd = (): void => void f.emit(op.get(left), op.get(right), op.i8x16Shuffle(EVEN_FLOATS), op.get(left), op.get(right), op.i8x16Shuffle(ODD_FLOATS));
  f.emit(op.get(outW), op.i32(3), op.i32Add, op.i32(2), op.i32ShrU, op.set(blocks));
  f.emit(op.i32(0), op.set(p), op.get(x), op.set(planeAt), op.get(y), op.set(rowOut));
  whileLoop(f, () => f.emit(op.get(p), op.get(planes), op.i32GeU), () => {
    f.emit(op.i32(0), op.set(oy), op.get(planeAt), op.set(rowAt));
    whileLoop(f, () => f.emit(op.get(oy), op.get(outH), op.i32GeU), () => {
      f.emit(op.i32(0), op.set(block), op.get(rowAt), op.set(at), op.get(rowOut), op.set(out));
      whileLoop(f, () => f.emit(op.get(block), op.get(blocks), op.i32GeU), () => {
        combineRows(0, left);
        combineRows(16, right);
        f.emit(op.get(max), op.if);
        evenAndOdd();
        f.emit(op.f32x4Max, op.set(result), op.else);
        evenAndOdd();
        f.emit(op.f32x4Add, op.f32Const(0.25), op.f32x4Splat, op.f32x4Mul, op.set(result), op.end);
        f.emit(op.get(out), op.get(result), op.v128Store(0));
        increment(f, at, 32);
        increment(f, out, 16);
        increment(f, block, 1);
      });
      increment(f, rowAt, () => f.emit(op.get(inRowBytes), op.i32(1), op.i32Shl));
      increment(f, rowOut, () => f.emit(op.get(outW), op.i32(2), op.i32Shl));
      increment(f, oy, 1);
    });
    increment(f, planeAt, () => f.emit(op.get(inPlaneBytes)));
    increment(f, p, 1);
  });
  return f;
}
