// The int8 WebAssembly SIMD kernels against a float64 oracle of the same arithmetic: weights quantized per row
// (quantizeCsrRows), activations per sample as the kernels do it in float32 (scale = max|x|/127, code =
// round-half-even(x · 127/max)), integer sums taken exactly in float64, then rescaled. Shapes and patterns as
// for the float kernels (0 rows, 1×1, 1×N, N×1, primes, 15/16/17, 0 % and 100 % density, empty rows, a full
// row, a single entry, the last column), with and without bias and ReLU; every call writes into fresh output
// buffers filled with NaN, so a skipped output fails. Activation codes are checked to equal the oracle's exactly.
import { describe, expect, it } from 'vitest';
import { csrFromDense } from '../../../src/sparse/index.ts';
import { WasmArena } from '../../../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateInt8Kernels, int8KernelsSupported } from '../../../src/sparse/backends/wasm-int8/kernels.ts';
import { placeDensePairs, placeDenseRows, placeInt8Layer, placeVectorCsr, quantizeCsrRows } from '../../../src/sparse/backends/wasm-int8/weights.ts';
import { quantizeRowsInt8 } from '../../../src/quantize/int8.ts';
import { Rng } from '../../../src/tensor/index.ts';

type Pattern = 'random' | 'dense' | 'empty' | 'fullRow' | 'single' | 'lastColumn';

function weight(rows: number, cols: number, pattern: Pattern, density: number, rng: Rng): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const keep = pattern === 'dense' ? true
        : pattern === 'empty' ? false
          : pattern === 'fullRow' ? i === 0
            : pattern === 'single' ? i === rows - 1 && j === Math.floor(cols / 2)
              : pattern === 'lastColumn' ? j === cols - 1
                : rng.uniform() < density && i !== 1;
      if (keep) w[i * cols + j] = rng.normal() * (1 + i);
    }
  }
  return w;
}

/** What the kernels compute for one sample's activations: float32 scale and the int8 codes. */
function quantizeSample(x: ArrayLike<number>): { scale: number; codes: Int32Array } {
  let max = 0;
  for (let j = 0; j < x.length; j++) max = Math.max(max, Math.abs(x[j]!));
  const scale = Math.fround(max / 127);
  const inverse = Math.fround(127 / max);
  const codes = Int32Array.from(x, (v) => {
    const p = Math.fround(v * inverse);
    if (Number.isNaN(p)) return 0;
    const floor = Math.floor(p);
    const nearest = p - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(p);
    return Math.max(-127, Math.min(127, nearest));
  });
  return { scale, codes };
}

const SHAPES: [number, number][] = [[0, 5], [1, 1], [1, 37], [7, 1], [3, 4], [5, 5], [9, 19], [13, 31], [15, 16], [17, 17], [64, 100], [30, 257]];
const PATTERNS: [Pattern, number][] = [['random', 0.02], ['random', 0.3], ['dense', 1], ['empty', 0], ['fullRow', 0], ['single', 0], ['lastColumn', 0]];

describe('int8 weight rows', () => {
  it('quantizeCsrRows gives exactly the codes and scales of quantizeRowsInt8 (src/quantize)', () => {
    const rng = new Rng(1);
    const w = Float32Array.from({ length: 9 * 23 }, () => rng.normal());
    w.fill(0, 23, 46);
    const fromQuantize = quantizeRowsInt8(w, 9, 23);
    const csr = csrFromDense(w, 9, 23);
    const fromBackend = quantizeCsrRows(csr);
    expect(Array.from(fromBackend.scales)).toEqual(Array.from(fromQuantize.scales));
    expect(Array.from(fromBackend.codes)).toEqual(Array.from(csr.indices, (c, k) => {
      let row = 0;
      while (csr.indptr[row + 1]! <= k) row++;
      return fromQuantize.codes[row * 23 + c]!;
    }));
  });
});

describe.runIf(int8KernelsSupported())('int8 WebAssembly SIMD kernels', () => {
  it('places the float32 SELL-4 form only where int8 sums are exact in float32 (≤ 1040 inputs)', () => {
    const arena = new WasmArena(instantiateInt8Kernels()!.memory);
    const place = (cols: number) => placeInt8Layer(arena, { inFeatures: cols, outFeatures: 2, activation: 'none', bias: null, csr: csrFromDense(new Float32Array(2 * cols).fill(1), 2, cols), masked: new Float32Array(2 * cols).fill(1) }, 0);
    expect(placeVectorCsr(arena, place(1040), 'sell').kernel).toBe('sell');
    expect(() => placeVectorCsr(arena, place(1041), 'sell')).toThrow(/not exact in float32/);
    expect(placeVectorCsr(arena, place(1041)).kernel).toBe('swizzle');
  });

  it('picks the batch-1 form by slot count: swizzle on a 90 %-sparse layer, SELL-4 on a 99.5 %-sparse one', () => {
    const arena = new WasmArena(instantiateInt8Kernels()!.memory);
    const rng = new Rng(3);
    const place = (density: number) => {
      const w = weight(300, 784, 'random', density, rng);
      return placeInt8Layer(arena, { inFeatures: 784, outFeatures: 300, activation: 'relu', bias: null, csr: csrFromDense(w, 300, 784), masked: w }, 0);
    };
    expect(placeVectorCsr(arena, place(0.1)).kernel).toBe('swizzle');
    expect(placeVectorCsr(arena, place(0.005)).kernel).toBe('sell');
  });

  const instance = instantiateInt8Kernels()!;
  const arena = new WasmArena(instance.memory);
  const k = instance.kernels;
  const rng = new Rng(5);
  const nanBuffer = (bytes: number): number => {
    const address = arena.alloc(bytes);
    arena.f32().fill(NaN, address / 4, address / 4 + Math.ceil(bytes / 4));
    return address;
  };
  const read = (address: number, floats: number): Float32Array => arena.f32().slice(address / 4, address / 4 + floats);

  for (const [rows, cols] of SHAPES) {
    for (const [pattern, density] of PATTERNS) {
      for (const { useBias, relu } of [{ useBias: false, relu: false }, { useBias: true, relu: true }, { useBias: true, relu: false }]) {
        it(`${rows}×${cols} ${pattern}${pattern === 'random' ? ` ${density}` : ''}${useBias ? ' bias' : ''}${relu ? ' relu' : ''}`, () => {
          const w = weight(rows, cols, pattern, density, rng);
          const bias = Float32Array.from({ length: rows }, () => (useBias ? rng.normal() : 0));
          const x = Float32Array.from({ length: 16 * cols }, (_, i) => (i % 7 === 3 ? 0 : rng.normal() * 3));
          if (cols > 1) for (let j = 0; j < cols; j++) x[5 * cols + j] = 0; // a sample of zeros: scale 0
          if (rows === 0) return;
          const csr = csrFromDense(w, rows, cols);
          const layer = placeInt8Layer(arena, { inFeatures: cols, outFeatures: rows, activation: relu ? 'relu' : 'none', bias, csr, masked: w }, 0);
          placeDensePairs(arena, layer);
          placeDenseRows(arena, layer);
          const { codes: wCodes, scales: wScales } = layer.int8;
          // The oracle, sample by sample.
          const expected = new Float64Array(16 * rows);
          const magnitude = new Float64Array(16 * rows);
          const sampleCodes: Int32Array[] = [];
          const sampleScales: number[] = [];
          for (let s = 0; s < 16; s++) {
            const { scale, codes } = quantizeSample(x.subarray(s * cols, (s + 1) * cols));
            sampleCodes.push(codes);
            sampleScales.push(scale);
            for (let r = 0; r < rows; r++) {
              let sum = 0;
              for (let e = csr.indptr[r]!; e < csr.indptr[r + 1]!; e++) sum += wCodes[e]! * codes[csr.indices[e]!]!;
              const value = sum * wScales[r]! * scale + bias[r]!;
              expected[s * rows + r] = relu ? Math.max(value, 0) : value;
              magnitude[s * rows + r] = Math.abs(sum * wScales[r]! * scale) + Math.abs(bias[r]!);
            }
          }
          const check = (got: Float32Array, sample: (s: number, r: number) => number, samples: number, label: string): void => {
            for (let s = 0; s < samples; s++) {
              for (let r = 0; r < rows; r++) {
                const value = got[sample(s, r)]!;
                const want = expected[s * rows + r]!;
                if (!(Math.abs(value - want) <= 4 * 2 ** -23 * magnitude[s * rows + r]! + 1e-30)) expect.fail(`${label}: sample ${s}, row ${r}: ${value} vs ${want}`);
              }
            }
          };
          // Panels: input as a float panel (feature j of sample t at j·16 + t), one extra feature of garbage.
          const panel = arena.alloc(64 * (cols + 2));
          const f32 = arena.f32();
          for (let j = 0; j < cols; j++) for (let t = 0; t < 16; t++) f32[panel / 4 + j * 16 + t] = x[t * cols + j]!;
          f32.fill(12345, panel / 4 + cols * 16, panel / 4 + (cols + 1) * 16);
          const scales = nanBuffer(64);
          const words = nanBuffer(32 * cols + 32);
          k.quantizePanelWords16(cols, panel, words, scales);
          expect(Array.from(read(scales, 16))).toEqual(sampleScales.map((v) => Math.fround(v)));
          const i16 = new Int16Array(arena.memory.buffer);
          for (let t = 0; t < 16; t++) for (let j = 0; j < cols; j++) if (i16[(words + j * 32) / 2 + t] !== sampleCodes[t]![j]) expect.fail(`panel code ${t},${j}`);
          const csrOut = nanBuffer(64 * rows);
          k.csrPairsPanel16(rows, layer.pairPtr, layer.pairOffsets, layer.pairWeights, layer.scales, layer.bias, layer.relu, words, scales, csrOut);
          check(read(csrOut, 16 * rows), (s, r) => r * 16 + s, 16, 'csrPairsPanel16');
          const pairs = nanBuffer(64 * Math.ceil(cols / 2) + 64);
          const pairScales = nanBuffer(64);
          k.quantizePanelPairs16(cols, panel, pairs, pairScales);
          expect(Array.from(read(pairScales, 16))).toEqual(Array.from(read(scales, 16)));
          const denseOut = nanBuffer(64 * rows);
          k.denseInt8Panel16(rows, Math.ceil(cols / 2), layer.densePairs, layer.scales, layer.bias, layer.relu, pairs, pairScales, denseOut);
          check(read(denseOut, 16 * rows), (s, r) => r * 16 + s, 16, 'denseInt8Panel16');
          // Vectors: samples 0, 5 (all zeros) and 15, each with garbage after it.
          for (const s of [0, 5, 15]) {
            const vector = arena.alloc(4 * (cols + 16));
            arena.f32().set(x.subarray(s * cols, (s + 1) * cols), vector / 4);
            arena.f32().fill(-999, vector / 4 + cols, vector / 4 + cols + 16);
            const q = nanBuffer(cols + 32);
            const scale = nanBuffer(4);
            k.quantizeVector(cols, vector, q, scale);
            expect(read(scale, 1)[0]).toBe(Math.fround(sampleScales[s]!));
            const one = (got: Float32Array): Float32Array => {
              const full = new Float32Array(16 * rows).fill(NaN);
              for (let r = 0; r < rows; r++) full[s * rows + r] = got[r]!;
              return full;
            };
            for (const [name, run] of [
              ['denseInt8Matvec', (out: number) => k.denseInt8Matvec(rows, Math.ceil(cols / 8), layer.denseRows, layer.scales, layer.bias, layer.relu, q, scale, out)],
              ['swizzleInt8Matvec', (out: number) => {
                const form = placeVectorCsr(arena, layer, 'swizzle');
                if (form.kernel !== 'swizzle') throw new Error('not the swizzle form');
                k.swizzleInt8Matvec(form.nSlices, form.slicePtr, form.slots, form.sliceScales, form.sliceBias, form.rows, layer.relu, q, scale, out);
              }],
              ['sellInt8Matvec', (out: number) => {
                const codes = nanBuffer(4 * (cols + 16));
                k.codesToF32(cols, q, codes);
                for (let j = 0; j < cols; j++) if (read(codes + 4 * j, 1)[0] !== sampleCodes[s]![j]) expect.fail(`codesToF32 ${s},${j}`);
                const form = placeVectorCsr(arena, layer, 'sell');
                if (form.kernel !== 'sell') throw new Error('not the SELL-4 form');
                const { nSlices, slicePtr, rowOffsets, slots } = form.sell;
                k.sellInt8Matvec(nSlices, slicePtr, rowOffsets, slots, layer.scales, layer.bias, layer.relu, codes, scale, out);
              }],
            ] as const) {
              const out = nanBuffer(4 * rows);
              run(out);
              const got = one(read(out, rows));
              // The same bits from every vector kernel (an exact integer sum, rescaled in the same order).
              if (name !== 'denseInt8Matvec') {
                const reference = nanBuffer(4 * rows);
                k.denseInt8Matvec(rows, Math.ceil(cols / 8), layer.denseRows, layer.scales, layer.bias, layer.relu, q, scale, reference);
                expect(Array.from(read(out, rows)), name).toEqual(Array.from(read(reference, rows)));
              }
              for (let r = 0; r < rows; r++) {
                const want = expected[s * rows + r]!;
                if (!(Math.abs(got[s * rows + r]! - want) <= 4 * 2 ** -23 * magnitude[s * rows + r]! + 1e-30)) expect.fail(`${name}: sample ${s}, row ${r}: ${got[s * rows + r]} vs ${want}`);
              }
            }
          }
        });
      }
    }
  }
});
