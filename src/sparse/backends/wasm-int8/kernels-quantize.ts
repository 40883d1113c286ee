/*
 * Dynamic quantization of activations on WebAssembly SIMD: each sample's features are scaled into int8 by
 * that sample's own scale (as onnxruntime's dynamic MatMulInteger path does), right before the layer that
 * reads them:
 *
 *     scale[s] = max_j |x[s][j]| / 127        q[s][j] = round(x[s][j] / scale[s])  (ties to even; in [−127, 127])
 *
 * (a sample of zeros gets scale 0 and codes 0: its multiplier 127/max is replaced by 0).
 * Float inputs are 16-sample panels (feature j of sample t at float j·16 + t, as in ../wasm-simd/kernels.ts)
 * or one vector. Three output layouts, one per consuming kernel:
 *
 *   quantizePanelWords16(nFeatures, x, q, scales)   int16, feature-major: bytes j·32 + 2t (CSR panels)
 *   quantizePanelPairs16(nFeatures, x, q, scales)   int16, features paired: for the pair (2i, 2i+1), 4 vectors
 *       of [x[2i][t], x[2i+1][t]] for t in 0–3, 4–7, 8–11, 12–15 at byte i·64 (dense panels: the operand
 *       layout of i32x4.dot_i16x8_s). The feature after an odd count is read too; its weights are zero.
 *   quantizeVector(n, x, q, scale)                   int8, q[j] (dense and CSR vectors); writes up to 15 bytes
 *       past n, and reads as many floats: callers leave room, and weights past n are zero.
 *
 * `scales` receives the 16 (panel) or one (vector) float32 scales. Every kernel reads x twice: O(features·samples).
 *
 * PSEUDO_MAX: the maxima of |x| use f32x4.pmax (a < b ? b : a), one maxps on x64, where f32x4.max (NaN- and
 * −0-exact) expands into about eight instructions: quantizing a 784-float vector took 0.70 µs with max and
 * 0.18 µs with pmax (0.14 with PEELED below; experiments/int8-swizzle-probe.ts). The two agree on every |x|
 * that is not NaN. A NaN is skipped by pmax, so its own code is garbage (not 0); a sample holding NaN or
 * ±Infinity is flagged by the model, which sets its outputs to NaN, so such codes never reach a result.
 */
import { F32, FunctionBuilder, I32, op, V128 } from '../../../wasm/assembler.ts';
import { increment, whileLoop } from '../../../wasm/emit.ts';

const INTERLEAVE_LOW_I16 = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
const INTERLEAVE_HIGH_I16 = [8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31];

/**
 * Pass 1 of a panel kernel: the 16 samples' max |x| over `nFeatures` features, stored as scales (max/127),
 * and the reciprocal multipliers 127/max left in `inverse` (4 vectors).
 */
function panelScales(f: FunctionBuilder, nFeatures: number, x: number, scales: number, inverse: readonly number[]): void {
  const at = f.local(I32), end = f.local(I32);
  const max = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  for (const m of max) f.emit(op.v128Zero, op.set(m));
  f.emit(op.get(x), op.set(at), op.get(x), op.get(nFeatures), op.i32(6), op.i32Shl, op.i32Add, op.set(end));
  whileLoop(f, () => f.emit(op.get(at), op.get(end), op.i32GeU), () => {
    max.forEach((m, k) => f.emit(op.get(m), op.get(at), op.v128Load(16 * k), op.f32x4Abs, op.f32x4Pmax, op.set(m)));
    increment(f, at, 64);
  });
  max.forEach((m, k) => {
    f.emit(op.get(scales), op.get(m), op.f32Const(127), op.f32x4Splat, op.f32x4Div, op.v128Store(16 * k));
    // 127/max, or 0 for a sample of zeros (or a NaN max): codes x·0 = 0, never NaN.
    f.emit(op.f32Const(127), op.f32x4Splat, op.get(m), op.f32x4Div, op.get(m), op.v128Zero, op.f32x4Gt, op.v128And, op.set(inverse[k]!));
  });
}

/**
 * Pushes the i32x4 codes of 4 floats at address `at` + offset: round-half-even(x · inverse), by the float
 * trick v + 1.5·2^23, whose low mantissa bits are then the rounded integer (exact for |v| < 2^22; here
 * |v| ≤ 127). Two cheap instructions instead of f32x4.nearest and the saturating truncation, which x64
 * engines expand into a long sequence; the one input they would have caught, NaN, cannot occur (inverse is 0
 * where max is 0 or NaN), and a caller's padding lanes may give garbage codes that only meet zero weights.
 */
function codes(f: FunctionBuilder, at: number, offset: number, inverse: number): void {
  f.emit(op.get(at), op.v128Load(offset), op.get(inverse), op.f32x4Mul, op.f32Const(ROUNDING_MAGIC), op.f32x4Splat, op.f32x4Add);
  f.emit(op.i32(ROUNDING_MAGIC_BITS), op.i32x4Splat, op.i32x4Sub);
}

/**
 * Pass 2 of every kernel here: `body` while at < end (unsigned), its first run emitted before the loop. Why
 * (PEELED): V8 (Node 20) places a value the loop only reads — the reciprocal scales, the rounding constants —
 * at its first use. It peels such loops itself on a private memory, not on a shared one (a model on threads),
 * where the divisions then ran in every iteration. `npx tsx experiments/int8-quantize-probe.ts` (784 features,
 * µs a call, private / shared memory): quantizePanelWords16 2.87 / 4.29 before, 2.00 / 2.12 peeled;
 * quantizePanelPairs16 2.99 / 3.09 → 2.05 / 2.10; quantizeVector 0.169 / 0.180 → 0.137 / 0.152.
 */
function peeledLoop(f: FunctionBuilder, at: number, end: number, body: () => void): void {
  f.emit(op.get(at), op.get(end), op.i32LtU, op.if);
  body();
  f.emit(op.end);
  whileLoop(f, () => f.emit(op.get(at), op.get(end), op.i32GeU), body);
}

/** 1.5·2^23 and its bit pattern (0x4B400000). */
const ROUNDING_MAGIC = 12582912;
const ROUNDING_MAGIC_BITS = 0x4b400000;

/** Builds quantizePanelWords16 (see the top of this file). */
export function quantizePanelWords16(): FunctionBuilder {
  const f = new FunctionBuilder('quantizePanelWords16', 4);
  const [nFeatures, x, q, scales] = [0, 1, 2, 3];
  const inverse = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const at = f.local(I32), end = f.local(I32), out = f.local(I32);
  panelScales(f, nFeatures, x, scales, inverse);
  f.emit(op.get(x), op.set(at), op.get(x), op.get(nFeatures), op.i32(6), op.i32Shl, op.i32Add, op.set(end), op.get(q), op.set(out));
  const feature = (): void => {
    for (let half = 0; half < 2; half++) {
      f.emit(op.get(out));
      codes(f, at, 32 * half, inverse[2 * half]!);
      codes(f, at, 32 * half + 16, inverse[2 * half + 1]!);
      f.emit(op.i16x8NarrowI32x4S, op.v128Store(16 * half));
    }
    increment(f, at, 64);
    increment(f, out, 32);
  };
  peeledLoop(f, at, end, feature);
  return f;
}

/** Builds quantizePanelPairs16 (see the top of this file). */
export function quantizePanelPairs16(): FunctionBuilder {
  const f = new FunctionBuilder('quantizePanelPairs16', 4);
  const [nFeatures, x, q, scales] = [0, 1, 2, 3];
  const inverse = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const at = f.local(I32), end = f.local(I32), out = f.local(I32);
  const halves = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)]; // feature a: samples 0–7, 8–15; then b
  // The scales come from the real features only; pass 2 runs over ceil(n/2) pairs (an odd n's partner feature
  // is whatever the buffer holds, multiplied by zero weights).
  panelScales(f, nFeatures, x, scales, inverse);
  f.emit(op.get(x), op.set(at), op.get(x), op.get(nFeatures), op.i32(1), op.i32Add, op.i32(-2), op.i32And, op.i32(6), op.i32Shl, op.i32Add, op.set(end), op.get(q), op.set(out));
  peeledLoop(f, at, end, () => {
    for (let feature = 0; feature < 2; feature++) {
      for (let half = 0; half < 2; half++) {
        codes(f, at, 64 * feature + 32 * half, inverse[2 * half]!);
        codes(f, at, 64 * feature + 32 * half + 16, inverse[2 * half + 1]!);
        f.emit(op.i16x8NarrowI32x4S, op.set(halves[2 * feature + half]!));
      }
    }
    [[0, INTERLEAVE_LOW_I16], [0, INTERLEAVE_HIGH_I16], [1, INTERLEAVE_LOW_I16], [1, INTERLEAVE_HIGH_I16]].forEach(([half, lanes], k) => {
      f.emit(op.get(out), op.get(halves[half as number]!), op.get(halves[2 + (half as number)]!), op.i8x16Shuffle(lanes as number[]), op.v128Store(16 * k));
    });
    increment(f, at, 128);
    increment(f, out, 64);
  });
  return f;
}

/** Builds quantizeVector (see the top of this file). */
export function quantizeVector(): FunctionBuilder {
  const f = new FunctionBuilder('quantizeVector', 4);
  const [n, x, q, scale] = [0, 1, 2, 3];
  const k = f.local(I32), vectorBytes = f.local(I32), rowBytes = f.local(I32), out = f.local(I32);
  const max = f.local(V128), inverse = f.local(V128), maxScalar = f.local(F32), blockBytes = f.local(I32);
  const maxes = [max, f.local(V128), f.local(V128), f.local(V128)];
  f.emit(op.get(n), op.i32(2), op.i32Shl, op.set(rowBytes));
  f.emit(op.get(n), op.i32(-4), op.i32And, op.i32(2), op.i32Shl, op.set(vectorBytes));
  f.emit(op.get(n), op.i32(-16), op.i32And, op.i32(2), op.i32Shl, op.set(blockBytes));
  for (const m of maxes) f.emit(op.v128Zero, op.set(m));
  f.emit(op.f32zero, op.set(maxScalar), op.i32(0), op.set(k));
  // 16 floats per step into four independent maxima (pmax: one instruction, see PSEUDO_MAX), then 4 at a time.
  whileLoop(f, () => f.emit(op.get(k), op.get(blockBytes), op.i32GeU), () => {
    maxes.forEach((m, u) => f.emit(op.get(m), op.get(x), op.get(k), op.i32Add, op.v128Load(16 * u), op.f32x4Abs, op.f32x4Pmax, op.set(m)));
    increment(f, k, 64);
  });
  for (const m of maxes.slice(1)) f.emit(op.get(max), op.get(m), op.f32x4Pmax, op.set(max));
  whileLoop(f, () => f.emit(op.get(k), op.get(vectorBytes), op.i32GeU), () => {
    f.emit(op.get(max), op.get(x), op.get(k), op.i32Add, op.v128Load(0), op.f32x4Abs, op.f32x4Pmax, op.set(max));
    increment(f, k, 16);
  });
  whileLoop(f, () => f.emit(op.get(k), op.get(rowBytes), op.i32GeU), () => {
    f.emit(op.get(maxScalar), op.get(x), op.get(k), op.i32Add, op.f32Load(0), op.f32Abs, op.f32Max, op.set(maxScalar));
    increment(f, k, 4);
  });
  for (let lane = 0; lane < 4; lane++) f.emit(op.get(maxScalar), op.get(max), op.f32x4ExtractLane(lane), op.f32Max, op.set(maxScalar));
  f.emit(op.get(scale), op.get(maxScalar), op.f32Const(127), op.f32Div, op.f32Store(0));
  f.emit(op.f32Const(127), op.get(maxScalar), op.f32Div, op.f32zero, op.get(maxScalar), op.f32zero, op.f32Gt, op.select, op.f32x4Splat, op.set(inverse));
  // Pass 2 in groups of 16 floats → 16 bytes, up to 15 past n.
  f.emit(op.get(x), op.set(k), op.get(x), op.get(rowBytes), op.i32Add, op.set(rowBytes), op.get(q), op.set(out));
  peeledLoop(f, k, rowBytes, () => {
    f.emit(op.get(out));
    codes(f, k, 0, inverse);
    codes(f, k, 16, inverse);
    f.emit(op.i16x8NarrowI32x4S);
    codes(f, k, 32, inverse);
    codes(f, k, 48, inverse);
    f.emit(op.i16x8NarrowI32x4S, op.i8x16NarrowI16x8S, op.v128Store(0));
    increment(f, k, 64);
    increment(f, out, 16);
  });
  return f;
}
