// The WebAssembly SIMD kernels against a float64 reference, over the shapes and sparsity patterns every
// kernel in the project is checked on (0 rows, 1×1, 1×N, N×1, primes, unroll sizes ± 1, rows not a multiple
// of the 4-row slices and blocks, 0 % and 100 % density, empty rows, a full row, a single nonzero, the last
// column only, 4×1 blocks with a partial last block row), with and without bias and ReLU (each of the four
// combinations). Every kernel call writes into its own fresh output buffer filled with NaN, so a kernel that
// skips an output (the last rows, a lane) fails instead of passing on an earlier answer.
import { describe, expect, it } from 'vitest';
import { bsrFromDense, csrFromDense, csrTranspose } from '../../../src/sparse/index.ts';
import { placeBsr, placeSell, WasmArena } from '../../../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels, wasmSimdSupported } from '../../../src/sparse/backends/wasm-simd/kernels.ts';
import { sellFromCsr, SELL_SLOT_BYTES } from '../../../src/sparse/backends/wasm-simd/sell.ts';
import { Rng } from '../../../src/tensor/index.ts';

type Pattern = 'random' | 'dense' | 'empty' | 'fullRow' | 'single' | 'lastColumn' | 'blocks';

function weight(rows: number, cols: number, pattern: Pattern, density: number, rng: Rng): Float32Array {
  const w = new Float32Array(rows * cols);
  if (pattern === 'blocks') { // 4×1 blocks kept with probability `density`; block row 1 (rows 4–7) empty
    for (let r = 0; 4 * r < rows; r++) for (let j = 0; j < cols; j++) {
      if (r !== 1 && rng.uniform() < density) for (let t = 0; t < 4 && 4 * r + t < rows; t++) w[(4 * r + t) * cols + j] = rng.normal();
    }
    return w;
  }
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

const SHAPES: [number, number][] = [[0, 5], [1, 1], [1, 37], [7, 1], [3, 4], [5, 5], [9, 19], [13, 31], [15, 16], [17, 17], [64, 100], [30, 257]];
const PATTERNS: [Pattern, number][] = [['random', 0.02], ['random', 0.3], ['dense', 1], ['empty', 0], ['fullRow', 0], ['single', 0], ['lastColumn', 0], ['blocks', 0.3]];

describe.runIf(wasmSimdSupported())('WebAssembly SIMD kernels', () => {
  const instance = instantiateKernels()!;
  const arena = new WasmArena(instance.memory);
  const k = instance.kernels;
  const rng = new Rng(5);

  /** `floats` fresh floats filled with NaN; returns their byte address. */
  const nanBuffer = (floats: number): number => {
    const address = arena.alloc(4 * floats);
    arena.f32().fill(NaN, address / 4, address / 4 + floats);
    return address;
  };
  const read = (address: number, floats: number): Float32Array => arena.f32().slice(address / 4, address / 4 + floats);

  for (const [rows, cols] of SHAPES) {
    for (const [pattern, density] of PATTERNS) {
      for (const { useBias, relu } of [{ useBias: false, relu: false }, { useBias: true, relu: false }, { useBias: false, relu: true }, { useBias: true, relu: true }]) {
        it(`${rows}×${cols} ${pattern}${pattern === 'random' ? ` ${density}` : ''}${useBias ? ' bias' : ''}${relu ? ' relu' : ''}`, () => {
          const w = weight(rows, cols, pattern, density, rng);
          const bias = Float32Array.from({ length: rows }, () => (useBias ? rng.normal() : 0)); // zeros = no bias
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
          k.rowsToPanels16(1, cols, xRows, xPanel);
          const flag = relu ? 1 : 0;

          const check = (actual: Float32Array, samples: number, what: string): void => {
            expect(actual.length).toBe(samples * rows);
            for (let e = 0; e < samples * rows; e++) {
              const diff = Math.abs(actual[e]! - ref.y[e]!);
              if (!(diff <= ref.bound[e]!)) expect.fail(`${what}: entry ${e} is ${actual[e]}, reference ${ref.y[e]} (bound ${ref.bound[e]})`);
            }
          };
          const panelKernel = (what: string, call: (y: number) => void): void => {
            const yPanel = nanBuffer(16 * rows);
            const yRows = nanBuffer(16 * rows);
            call(yPanel);
            k.panelsToRows16(1, rows, yPanel, yRows);
            check(read(yRows, 16 * rows), 16, what);
          };
          const vectorKernel = (what: string, call: (y: number) => void): void => {
            const yVector = nanBuffer(rows);
            call(yVector);
            check(read(yVector, rows), 1, what);
          };

          panelKernel('spmmPanel16', (y) => k.spmmPanel16(rows, indptr, panelOffsets, values, biasAddress, flag, xPanel, y));
          panelKernel('densePanel16', (y) => k.densePanel16(rows, cols, wAddress, biasAddress, flag, xPanel, y));
          vectorKernel('spmv', (y) => k.spmv(rows, indptr, vectorOffsets, values, biasAddress, flag, xRows, y));
          vectorKernel('denseMatvec', (y) => k.denseMatvec(rows, cols, wAddress, biasAddress, flag, xRows, y));
          const sell = placeSell(arena, sellFromCsr(csr));
          vectorKernel('sellMatvec', (y) => k.sellMatvec(sell.nSlices, sell.slicePtr, sell.rowOffsets, sell.slots, biasAddress, flag, xRows, y));
          const bsr = placeBsr(arena, bsrFromDense(w, rows, cols));
          panelKernel('bsrPanel16', (y) => k.bsrPanel16(rows, bsr.indptr, bsr.panelOffsets, bsr.values, biasAddress, flag, xPanel, y));
          vectorKernel('bsrMatvec', (y) => k.bsrMatvec(rows, bsr.indptr, bsr.vectorOffsets, bsr.values, biasAddress, flag, xRows, y));

          // Skip-zeros (CSC scatter): on an input with every third feature zero, against its own reference.
          const sparseInput = x.slice(0, cols).map((v, j) => (j % 3 === 0 ? 0 : v));
          const sparseRef = reference(w, bias, relu, rows, cols, sparseInput, 1);
          const csc = csrTranspose(csr);
          const xSparse = arena.allocF32(sparseInput);
          const colptr = arena.allocI32(csc.indptr);
          const rowOffsets = arena.allocI32(Array.from(csc.indices, (r) => r * 4));
          const cscValues = arena.allocF32(csc.values);
          const yScatter = nanBuffer(rows);
          k.cscMatvecSkipZeros(rows, cols, colptr, rowOffsets, cscValues, biasAddress, flag, xSparse, yScatter);
          const got = read(yScatter, rows);
          for (let i = 0; i < rows; i++) {
            if (!(Math.abs(got[i]! - sparseRef.y[i]!) <= sparseRef.bound[i]!)) expect.fail(`cscMatvecSkipZeros: row ${i} is ${got[i]}, reference ${sparseRef.y[i]}`);
          }
        });
      }
    }
  }

  it('propagate a NaN input through ReLU on every kernel (max(NaN, 0) is NaN in WebAssembly)', () => {
    // W [2 × 3] = [[1, 0, 0], [0, 2, 0]]: a NaN in input 0 reaches row 0 through its weight; ReLU must not turn
    // it into 0. Row 1 is NaN too on the dense kernels (0·NaN = NaN) and on the 4×1 BSR ones (the block of
    // column 0 stores row 1's zero), and 2·x1 on the CSR and SELL ones, which never read the zero weight (the
    // model's non-finite rule makes them all agree, see inference/model.ts).
    const w = Float32Array.from([1, 0, 0, 0, 2, 0]);
    const csr = csrFromDense(w, 2, 3);
    const csc = csrTranspose(csr);
    const x = new Float32Array(16 * 3);
    for (let t = 0; t < 16; t++) x.set([NaN, t === 5 ? -1 : 1, 0], 3 * t);
    const xRows = arena.allocF32(x);
    const xPanel = arena.alloc(4 * 16 * 3);
    k.rowsToPanels16(1, 3, xRows, xPanel);
    const bias = arena.alloc(4 * 2);
    const [indptr, panelOffsets, vectorOffsets, values] = [arena.allocI32(csr.indptr), arena.allocI32(Array.from(csr.indices, (c) => c * 64)), arena.allocI32(Array.from(csr.indices, (c) => c * 4)), arena.allocF32(csr.values)];
    const wAddress = arena.allocF32(w);
    const sell = placeSell(arena, sellFromCsr(csr));
    const bsr = placeBsr(arena, bsrFromDense(w, 2, 3));
    const expectVector = (y: Float32Array, second: number): void => {
      expect(Number.isNaN(y[0]!)).toBe(true);
      expect(y[1]).toBe(second);
    };
    for (const [dense, call] of [
      [false, (y: number) => k.spmv(2, indptr, vectorOffsets, values, bias, 1, xRows, y)],
      [true, (y: number) => k.denseMatvec(2, 3, wAddress, bias, 1, xRows, y)],
      [false, (y: number) => k.sellMatvec(sell.nSlices, sell.slicePtr, sell.rowOffsets, sell.slots, bias, 1, xRows, y)],
      [true, (y: number) => k.bsrMatvec(2, bsr.indptr, bsr.vectorOffsets, bsr.values, bias, 1, xRows, y)],
      [false, (y: number) => k.cscMatvecSkipZeros(2, 3, arena.allocI32(csc.indptr), arena.allocI32(Array.from(csc.indices, (r) => r * 4)), arena.allocF32(csc.values), bias, 1, xRows, y)],
    ] as const) {
      const y = nanBuffer(2);
      call(y);
      expectVector(read(y, 2), dense ? NaN : 2);
    }
    for (const [dense, call] of [
      [false, (y: number) => k.spmmPanel16(2, indptr, panelOffsets, values, bias, 1, xPanel, y)],
      [true, (y: number) => k.densePanel16(2, 3, wAddress, bias, 1, xPanel, y)],
      [true, (y: number) => k.bsrPanel16(2, bsr.indptr, bsr.panelOffsets, bsr.values, bias, 1, xPanel, y)],
    ] as const) {
      const yPanel = nanBuffer(32);
      const yRows = nanBuffer(32);
      call(yPanel);
      k.panelsToRows16(1, 2, yPanel, yRows);
      const y = read(yRows, 32);
      for (let t = 0; t < 16; t++) expectVector(y.subarray(2 * t, 2 * t + 2), dense ? NaN : t === 5 ? 0 : 2);
    }
  });

  it('SELL-4 pads a short row with its own last column, and keeps empty rows in slices of their own', () => {
    // Rows 0 and 2 hold 3 and 1 nonzeros, rows 1 and 3 none; x[0] is NaN and only row 0 reads it. Row 2 is padded
    // to row 0's length with weight 0 at its own column 4, so it stays finite; rows 1 and 3 get their bias.
    const w = new Float32Array(4 * 5);
    w.set([1, 2, 3], 0); // row 0: columns 0, 1, 2
    w[2 * 5 + 4] = 4; // row 2: column 4
    const csr = csrFromDense(w, 4, 5);
    const form = sellFromCsr(csr);
    expect(form.nSlices).toBe(2);
    expect(Array.from(form.rowOffsets, (o) => o / 4)).toEqual([0, 2, 2, 2, 1, 3, 3, 3]); // ghosts repeat the last row
    expect(Array.from(form.slicePtr)).toEqual([0, 3 * SELL_SLOT_BYTES, 3 * SELL_SLOT_BYTES]);
    const columnsOfLane1 = [0, 1, 2].map((k) => new DataView(form.slots.buffer).getUint16(k * SELL_SLOT_BYTES + 2, true) / 4);
    expect(columnsOfLane1).toEqual([4, 4, 4]);
    const sell = placeSell(arena, form);
    const bias = arena.allocF32([0.5, -1, 0.25, 2]);
    const x = arena.allocF32([NaN, 1, 1, 1, 3]);
    const y = nanBuffer(4);
    k.sellMatvec(sell.nSlices, sell.slicePtr, sell.rowOffsets, sell.slots, bias, 0, x, y);
    const got = read(y, 4);
    expect(Number.isNaN(got[0]!)).toBe(true);
    expect(Array.from(got.subarray(1))).toEqual([-1, 12.25, 2]);
  });

  it('scanVector counts the entries that are not 0 (−0 is 0, NaN is not) and flags NaN or ±Infinity (every tail length)', () => {
    for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 33, 784]) {
      const values = Float32Array.from({ length: n }, (_, j) => (j % 3 === 0 ? 0 : j % 7 === 0 ? -0 : rng.normal() * 1e30));
      for (const [position, value] of [[-1, 0], [0, NaN], [n - 1, Infinity], [Math.floor(n / 2), -Infinity]] as const) {
        if (position >= n) continue;
        const x = values.slice();
        if (position >= 0) x[position] = value;
        const out = nanBuffer(2);
        k.scanVector(n, arena.allocF32(x), out);
        expect(arena.i32()[out / 4]).toBe(x.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0));
        const probe = arena.f32()[out / 4 + 1]!;
        expect(position < 0 ? probe === 0 : Number.isNaN(probe)).toBe(true);
      }
    }
  });

  it('nonFiniteProbe: ±0 for a finite row, NaN for a row with a NaN or ±Infinity anywhere (every tail length)', () => {
    for (const cols of [1, 3, 15, 16, 17, 33, 784]) {
      const rowsOf = [[], [0, NaN], [cols - 1, Infinity], [Math.floor(cols / 2), -Infinity], [], [cols - 1, 3e38]] as const;
      const x = new Float32Array(rowsOf.length * cols).map(() => rng.normal() * 1e30);
      rowsOf.forEach((change, i) => {
        if (change.length === 2) x[i * cols + change[0]] = change[1];
      });
      const probe = nanBuffer(rowsOf.length);
      k.nonFiniteProbe(rowsOf.length, cols, arena.allocF32(x), probe);
      expect(Array.from(read(probe, rowsOf.length), (v) => (v === 0 ? 'finite' : Number.isNaN(v) ? 'NaN' : v))).toEqual(['finite', 'NaN', 'NaN', 'NaN', 'finite', 'finite']);
    }
  });

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
