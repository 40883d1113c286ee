// The WebAssembly SIMD kernels against a float64 reference, over the shapes and sparsity patterns every
// kernel in the project is checked on (0 rows, 1×1, 1×N, N×1, primes, unroll sizes ± 1, 0 % and 100 %
// density, empty rows, a full row, a single nonzero, the last column only), with and without bias and ReLU.
import { describe, expect, it } from 'vitest';
import { csrFromDense, csrTranspose } from '../../../src/sparse/index.ts';
import { WasmArena } from '../../../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels, wasmSimdSupported } from '../../../src/sparse/backends/wasm-simd/kernels.ts';
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
                : rng.uniform() < density && i !== 1; // row 1 empty
      if (keep) w[i * cols + j] = rng.normal();
    }
  }
  return w;
}

/** Float64 reference y[s][i] = act(b[i] + Σ_j w[i][j]·x[s][j]) and the float32 error bound of each entry. */
function reference(w: Float32Array, bias: Float32Array, relu: boolean, rows: number, cols: number, x: Float32Array, batch: number) {
  const y = new Float64Array(batch * rows);
  const bound = new Float64Array(batch * rows);
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < rows; i++) {
      let sum = bias[i]!;
      let magnitude = Math.abs(bias[i]!);
      for (let j = 0; j < cols; j++) {
        sum += w[i * cols + j]! * x[s * cols + j]!;
        magnitude += Math.abs(w[i * cols + j]! * x[s * cols + j]!);
      }
      y[s * rows + i] = relu ? Math.max(sum, 0) : sum;
      bound[s * rows + i] = 2 * (cols + 2) * 2 ** -24 * magnitude + 1e-30;
    }
  }
  return { y, bound };
}

const SHAPES: [number, number][] = [[0, 5], [1, 1], [1, 37], [7, 1], [3, 4], [5, 5], [13, 31], [15, 16], [17, 17], [64, 100], [30, 257]];
const PATTERNS: [Pattern, number][] = [['random', 0.02], ['random', 0.3], ['dense', 1], ['empty', 0], ['fullRow', 0], ['single', 0], ['lastColumn', 0]];

describe.runIf(wasmSimdSupported())('WebAssembly SIMD kernels', () => {
  const instance = instantiateKernels()!;
  const arena = new WasmArena(instance.memory);
  const k = instance.kernels;
  const rng = new Rng(5);

  for (const [rows, cols] of SHAPES) {
    for (const [pattern, density] of PATTERNS) {
      for (const relu of [false, true]) {
        it(`${rows}×${cols} ${pattern}${pattern === 'random' ? ` ${density}` : ''}${relu ? ' relu' : ''}`, () => {
          const w = weight(rows, cols, pattern, density, rng);
          const bias = Float32Array.from({ length: rows }, () => (relu ? rng.normal() : 0));
          const x = Float32Array.from({ length: 16 * cols }, () => rng.normal());
          const ref = reference(w, bias, relu, rows, cols, x, 16);
          const csr = csrFromDense(w, rows, cols);
          const indptr = arena.allocI32(csr.indptr);
          const panelOffsets = arena.allocI32(Array.from(csr.indices, (c) => c * 64));
          const vectorOffsets = arena.allocI32(Array.from(csr.indices, (c) => c * 4));
          const values = arena.allocF32(csr.values);
          const wAddress = arena.allocF32(w);
          const biasAddress = arena.allocF32(bias);
          const xRows = arena.allocF32(x);
          const xPanel = arena.alloc(4 * 16 * cols);
          const yPanel = arena.alloc(4 * 16 * rows);
          const yRows = arena.alloc(4 * 16 * rows);
          const yVector = arena.alloc(4 * rows);
          k.rowsToPanels16(1, cols, xRows, xPanel);
          const flag = relu ? 1 : 0;

          const check = (actual: Float32Array, samples: number, what: string): void => {
            for (let e = 0; e < samples * rows; e++) {
              const diff = Math.abs(actual[e]! - ref.y[e]!);
              if (!(diff <= ref.bound[e]!)) expect.fail(`${what}: entry ${e} is ${actual[e]}, reference ${ref.y[e]} (bound ${ref.bound[e]})`);
            }
          };
          const panelResult = (what: string): void => {
            k.panelsToRows16(1, rows, yPanel, yRows);
            check(arena.f32().slice(yRows / 4, yRows / 4 + 16 * rows), 16, what);
          };
          const vectorResult = (what: string): void => check(arena.f32().slice(yVector / 4, yVector / 4 + rows), 1, what);

          k.spmmPanel16(rows, indptr, panelOffsets, values, biasAddress, flag, xPanel, yPanel);
          panelResult('spmmPanel16');
          k.densePanel16(rows, cols, wAddress, biasAddress, flag, xPanel, yPanel);
          panelResult('densePanel16');
          k.spmv(rows, indptr, vectorOffsets, values, biasAddress, flag, xRows, yVector);
          vectorResult('spmv');
          k.denseMatvec(rows, cols, wAddress, biasAddress, flag, xRows, yVector);
          vectorResult('denseMatvec');

          // Skip-zeros (CSC scatter): on an input with every third feature zero, against its own reference.
          const sparseInput = x.slice(0, cols).map((v, j) => (j % 3 === 0 ? 0 : v));
          const sparseRef = reference(w, bias, relu, rows, cols, sparseInput, 1);
          const csc = csrTranspose(csr);
          const xSparse = arena.allocF32(sparseInput);
          const colptr = arena.allocI32(csc.indptr);
          const rowOffsets = arena.allocI32(Array.from(csc.indices, (r) => r * 4));
          const cscValues = arena.allocF32(csc.values);
          k.cscMatvecSkipZeros(rows, cols, colptr, rowOffsets, cscValues, biasAddress, flag, xSparse, yVector);
          const got = arena.f32().slice(yVector / 4, yVector / 4 + rows);
          for (let i = 0; i < rows; i++) {
            if (!(Math.abs(got[i]! - sparseRef.y[i]!) <= sparseRef.bound[i]!)) expect.fail(`cscMatvecSkipZeros: row ${i} is ${got[i]}, reference ${sparseRef.y[i]}`);
          }
        });
      }
    }
  }

  it('rowsToPanels16 and panelsToRows16 are inverse transposes', () => {
    for (const [nPanels, features] of [[0, 3], [1, 1], [2, 5], [3, 37]] as const) {
      const rows = Float32Array.from({ length: 16 * nPanels * features }, (_, i) => i + 1);
      const source = arena.allocF32(rows);
      const panels = arena.alloc(4 * rows.length);
      const back = arena.alloc(4 * rows.length);
      k.rowsToPanels16(nPanels, features, source, panels);
      const mem = arena.f32();
      for (let p = 0; p < nPanels; p++) for (let j = 0; j < features; j++) for (let t = 0; t < 16; t++) {
        expect(mem[panels / 4 + p * 16 * features + j * 16 + t]).toBe(rows[(16 * p + t) * features + j]);
      }
      k.panelsToRows16(nPanels, features, panels, back);
      expect(Array.from(arena.f32().subarray(back / 4, back / 4 + rows.length))).toEqual(Array.from(rows));
    }
  });

  it('the arena keeps views valid across memory growth', () => {
    const before = arena.f32();
    const address = arena.alloc(3 << 20);
    expect(arena.f32() === before).toBe(false); // the old buffer is detached by the growth
    expect(arena.f32().length * 4).toBeGreaterThanOrEqual(address + (3 << 20));
    expect(arena.f32()[address / 4]).toBe(0);
  });
});

describe('WebAssembly SIMD availability', () => {
  it('is detected on the Node versions the project supports', () => {
    expect(wasmSimdSupported()).toBe(true);
  });
});
