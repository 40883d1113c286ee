/**
 * The smaller sections of the sparse benchmark (bench/sparse.ts): 4×1 block-pruned weights, a whole LeNet,
 * the TypeScript loop-order alternatives and the skip-zeros measurements the cost models are fitted on, plus
 * the weights and inputs every section draws. Timing rule: bench/rounds.ts.
 */
import { gemmNT, Rng } from '../src/tensor/index.ts';
import {
  bsrFromDense, bsrMatmulPanel, compileInference, csrFromDense, csrMatmulPanel, csrMatmulRows, csrMatvec, csrTranspose,
  panelViews, panelWidths, rowsToPanels, wasmSimdSupported, type InferenceLayer,
} from '../src/sparse/index.ts';
import { loadDigits } from '../src/node/data.ts';
import { placeBsr, placeCsr, placeSell, type WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import type { WasmKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { sellFromCsr } from '../src/sparse/backends/wasm-simd/sell.ts';
import { consume } from './harness.ts';
import { measureRounds, median, medianUs, probe, ratioSpread, type Probe, type Timer } from './rounds.ts';

/** A [rows × cols] weight with exactly round((1 − s)·rows·cols) nonzeros at random positions. */
export function randomSparseWeight(rows: number, cols: number, sparsity: number, rng: Rng): Float32Array {
  const size = rows * cols;
  const nnz = Math.round((1 - sparsity) * size);
  const w = new Float32Array(size);
  const order = rng.permutation(size);
  for (let i = 0; i < nnz; i++) {
    let v = 0;
    while (v === 0) v = rng.normal() * 0.05;
    w[order[i]!] = v;
  }
  return w;
}

/** A weight pruned in 4×1 blocks (4 neighbouring rows, one column), exact block count. */
export function randomBlockWeight(rows: number, cols: number, sparsity: number, rng: Rng): Float32Array {
  const blockRows = Math.ceil(rows / 4);
  const nBlocks = Math.round((1 - sparsity) * blockRows * cols);
  const order = rng.permutation(blockRows * cols);
  const w = new Float32Array(rows * cols);
  for (let b = 0; b < nBlocks; b++) {
    const r = Math.floor(order[b]! / cols);
    const c = order[b]! % cols;
    for (let t = 0; t < 4 && 4 * r + t < rows; t++) w[(4 * r + t) * cols + c] = rng.normal() * 0.05 || 0.01;
  }
  return w;
}

export function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** max |a − b| / max |b|; the correctness gate before any timing. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

export function check(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  const err = relativeError(a, b);
  if (!(err <= 1e-5)) throw new Error(`${what}: sparse result differs from gemmNT by ${err.toExponential(2)} (relative)`);
}

/** The WebAssembly SIMD kernels of the bench and the arena their data lives in (null: no SIMD here). */
export interface WasmBench {
  k: WasmKernels;
  arena: WasmArena;
}

/** Row-major copy of `panels` (16-sample panels of `features`) or of the vector at `address`. */
export function readWasmRows(w: WasmBench, address: number, features: number, batch: number): Float32Array {
  if (batch === 1) return w.arena.f32().slice(address / 4, address / 4 + features);
  const rows = w.arena.alloc(4 * batch * features);
  w.k.panelsToRows16(batch / 16, features, address, rows);
  return w.arena.f32().slice(rows / 4, rows / 4 + batch * features);
}

/**
 * Weights pruned in 4×1 blocks (300×784): the TypeScript CSR and BSR panel kernels, and on the SIMD backend
 * its dense kernel against its CSR path (SELL-4 at batch 1, spmmPanel16 above) and its BSR kernels.
 */
export function blockBenchmark(sparsities: number[], batches: number[], timer: Timer, rounds: number, rng: Rng, wasm: WasmBench | null): Record<string, unknown>[] {
  const [nRows, nCols] = [300, 784];
  interface Case { batch: number; sparsity: number; nnz: number; dense: Probe; csr: Probe; bsr: Probe; wasm: { dense: Probe; csr: Probe; bsr: Probe } | null }
  const cases: Case[] = [];
  for (const sparsity of sparsities) {
    const w = randomBlockWeight(nRows, nCols, sparsity, rng);
    const csr = csrFromDense(w, nRows, nCols);
    const bsr = bsrFromDense(w, nRows, nCols);
    const placed = wasm === null ? null : {
      dense: wasm.arena.allocF32(w), csr: placeCsr(wasm.arena, csr), sell: placeSell(wasm.arena, sellFromCsr(csr)),
      bsr: placeBsr(wasm.arena, bsr), bias: wasm.arena.alloc(4 * nRows),
    };
    for (const batch of batches) {
      const widths = panelWidths(batch);
      const x = randomArray(batch * nCols, rng);
      const xPanels = new Float64Array(batch * nCols);
      rowsToPanels(x, nCols, widths, xPanels);
      const yCsr = new Float64Array(batch * nRows);
      const yBsr = new Float64Array(batch * nRows);
      const yDense = new Float32Array(batch * nRows);
      const xv = panelViews(xPanels, nCols, widths);
      const yc = panelViews(yCsr, nRows, widths);
      const yb = panelViews(yBsr, nRows, widths);
      const runCsr = (): void => { for (let p = 0; p < widths.length; p++) csrMatmulPanel(nRows, widths[p]!, csr.indptr, csr.indices, csr.values, null, false, xv[p]!, yc[p]!); };
      const runBsr = (): void => { for (let p = 0; p < widths.length; p++) bsrMatmulPanel(nRows, widths[p]!, bsr.indptr, bsr.indices, bsr.values, null, false, xv[p]!, yb[p]!); };
      gemmNT(batch, nRows, nCols, x, w, yDense);
      runCsr();
      runBsr();
      const yDenseP = new Float64Array(batch * nRows);
      rowsToPanels(yDense, nRows, widths, yDenseP);
      check('block csr', yCsr, yDenseP);
      check('block bsr', yBsr, yDenseP);
      let wasmProbes: Case['wasm'] = null;
      if (wasm !== null && placed !== null) {
        const { k, arena } = wasm;
        const panels = batch / 16;
        const xAt = arena.allocF32(batch === 1 ? x : new Float32Array(xPanels));
        const yAt = arena.alloc(4 * batch * nRows);
        const perPanel = (call: (xp: number, yp: number) => void) => (): void => { for (let p = 0; p < panels; p++) call(xAt + p * 64 * nCols, yAt + p * 64 * nRows); };
        const b = placed.bias;
        const runs = batch === 1 ? {
          dense: () => k.denseMatvec(nRows, nCols, placed.dense, b, 0, xAt, yAt),
          csr: () => k.sellMatvec(placed.sell.nSlices, placed.sell.slicePtr, placed.sell.rowOffsets, placed.sell.slots, b, 0, xAt, yAt),
          bsr: () => k.bsrMatvec(nRows, placed.bsr.indptr, placed.bsr.vectorOffsets, placed.bsr.values, b, 0, xAt, yAt),
        } : {
          dense: perPanel((xp, yp) => k.densePanel16(nRows, nCols, placed.dense, b, 0, xp, yp)),
          csr: perPanel((xp, yp) => k.spmmPanel16(nRows, placed.csr.indptr, placed.csr.panelOffsets, placed.csr.values, b, 0, xp, yp)),
          bsr: perPanel((xp, yp) => k.bsrPanel16(nRows, placed.bsr.indptr, placed.bsr.panelOffsets, placed.bsr.values, b, 0, xp, yp)),
        };
        for (const [name, run] of Object.entries(runs)) {
          run();
          check(`block wasm ${name} batch ${batch}`, readWasmRows(wasm, yAt, nRows, batch), yDense);
        }
        const timed = (run: () => void): Probe => probe(() => { run(); consume(arena.f32().subarray(yAt / 4)); });
        wasmProbes = { dense: timed(runs.dense), csr: timed(runs.csr), bsr: timed(runs.bsr) };
      }
      cases.push({
        batch, sparsity, nnz: csr.nnz,
        dense: probe(() => { gemmNT(batch, nRows, nCols, x, w, yDense); consume(yDense); }),
        csr: probe(() => { runCsr(); consume(yCsr); }),
        bsr: probe(() => { runBsr(); consume(yBsr); }),
        wasm: wasmProbes,
      });
    }
  }
  measureRounds(cases.flatMap((c) => [c.dense, c.csr, c.bsr, ...(c.wasm === null ? [] : [c.wasm.dense, c.wasm.csr, c.wasm.bsr])]), rounds, timer);
  return cases.map((c) => {
    const row: Record<string, unknown> = {
      rows: nRows, cols: nCols, batch: c.batch, sparsity: c.sparsity, nnz: c.nnz,
      denseUs: medianUs(c.dense), csrUs: medianUs(c.csr), bsrUs: medianUs(c.bsr), bsrVsCsr: ratioSpread(c.csr.times, c.bsr.times).median,
    };
    if (c.wasm !== null) {
      const speedup = ratioSpread(c.wasm.dense.times, c.wasm.bsr.times);
      Object.assign(row, {
        wasmDenseUs: medianUs(c.wasm.dense), wasmCsrUs: medianUs(c.wasm.csr), wasmBsrUs: medianUs(c.wasm.bsr),
        wasmBsrSpeedup: speedup.median, wasmBsrSpeedupMin: speedup.min, wasmBsrSpeedupMax: speedup.max,
        wasmCsrSpeedup: ratioSpread(c.wasm.dense.times, c.wasm.csr.times).median,
        wasmBsrVsCsr: ratioSpread(c.wasm.csr.times, c.wasm.bsr.times).median,
      });
    }
    return row;
  });
}

/** A 95 %-sparse LeNet-300-100 through compileInference ('auto') against the same network forced dense. */
export function lenetBenchmark(batches: number[], timer: Timer, rounds: number, rng: Rng): Record<string, unknown>[] {
  const sizes = [784, 300, 100, 10];
  const layers: InferenceLayer[] = [];
  for (let l = 0; l < 3; l++) {
    const inFeatures = sizes[l]!;
    const outFeatures = sizes[l + 1]!;
    layers.push({
      weight: randomSparseWeight(outFeatures, inFeatures, 0.95, rng),
      inFeatures,
      outFeatures,
      bias: randomArray(outFeatures, rng).map((v) => v * 0.1),
      activation: l < 2 ? 'relu' : 'none',
    });
  }
  const dense = compileInference(layers, { backend: 'js', strategy: 'dense' });
  const sparse = compileInference(layers, { backend: 'js', strategy: 'auto' });
  const simd = wasmSimdSupported();
  const wasmDense = simd ? compileInference(layers, { backend: 'wasm-simd', strategy: 'dense' }) : null;
  const wasmSparse = simd ? compileInference(layers, { backend: 'wasm-simd', strategy: 'auto' }) : null;
  interface LenetCase { batch: number; input: string; err: number; dense: Probe; sparse: Probe; wasmDense: Probe | null; wasmSparse: Probe | null }
  const cases: LenetCase[] = [];
  // Inputs: Gaussian noise (every input non-zero), and real digits from the built-in test split, whose
  // ~80 % background zeros let the batch-1 path skip most of the first layer's weights.
  const digits = loadDigits().test;
  for (const { batch, input } of batches.flatMap((batch) => [{ batch, input: 'random' }, { batch, input: 'digits' }])) {
    const x = input === 'random' ? randomArray(batch * 784, rng) : digits.x.slice(0, batch * 784);
    const expected = dense.predict(x, batch).slice();
    let err = relativeError(sparse.predict(x, batch), expected);
    if (wasmDense !== null && wasmSparse !== null) {
      err = Math.max(err, relativeError(wasmDense.predict(x, batch), expected), relativeError(wasmSparse.predict(x, batch), expected));
    }
    if (!(err <= 1e-5)) throw new Error(`LeNet: sparse inference differs from dense by ${err}`);
    cases.push({
      batch, input, err,
      dense: probe(() => consume(dense.predict(x, batch))),
      sparse: probe(() => consume(sparse.predict(x, batch))),
      wasmDense: wasmDense === null ? null : probe(() => consume(wasmDense.predict(x, batch))),
      wasmSparse: wasmSparse === null ? null : probe(() => consume(wasmSparse.predict(x, batch))),
    });
  }
  measureRounds(cases.flatMap((c) => [c.dense, c.sparse, c.wasmDense, c.wasmSparse].filter((p): p is Probe => p !== null)), rounds, timer);
  return cases.map((c) => {
    const fastest = (a: Probe, b: Probe): number[] => a.times.map((t, r) => Math.min(t, b.times[r]!));
    const wasmSpeedup = c.wasmDense === null || c.wasmSparse === null ? null : ratioSpread(c.wasmDense.times, c.wasmSparse.times);
    return {
      batch: c.batch, input: c.input, denseUs: medianUs(c.dense), sparseUs: medianUs(c.sparse), speedup: ratioSpread(c.dense.times, c.sparse.times).median,
      kernels: sparse.kernels(c.batch).join(','), maxRelError: c.err,
      ...(c.wasmDense === null || c.wasmSparse === null || wasmSpeedup === null ? {} : {
        wasmDenseUs: medianUs(c.wasmDense),
        wasmSparseUs: medianUs(c.wasmSparse),
        wasmSpeedup: wasmSpeedup.median, wasmSpeedupMin: wasmSpeedup.min, wasmSpeedupMax: wasmSpeedup.max,
        wasmKernels: wasmSparse!.kernels(c.batch).join(','),
        bestSpeedup: ratioSpread(fastest(c.dense, c.wasmDense), fastest(c.sparse, c.wasmSparse)).median,
      }),
    };
  });
}

/**
 * The loop orders and layouts considered for a batch of the TypeScript kernels, on 300×784 at batch 64: one
 * sparse row-dot per sample (csrMatvec on each row of x), four samples per pass (csrMatmulRows), and the
 * feature-major panel kernel with every panel 4, 8 or 16 samples wide. Values are effective GFLOP/s (medians).
 */
export function alternativesBenchmark(sparsities: number[], timer: Timer, rounds: number, rng: Rng): Record<string, number>[] {
  const [nRows, nCols, batch] = [300, 784, 64];
  const x = randomArray(batch * nCols, rng);
  const cases: { sparsity: number; nnz: number; probes: Record<string, Probe> }[] = [];
  for (const sparsity of sparsities) {
    const csr = csrFromDense(randomSparseWeight(nRows, nCols, sparsity, rng), nRows, nCols);
    const { indptr, indices, values } = csr;
    const probes: Record<string, Probe> = {};
    const xRows = Array.from({ length: batch }, (_, s) => new Float64Array(x.subarray(s * nCols, (s + 1) * nCols)));
    const yRows = Array.from({ length: batch }, () => new Float64Array(nRows));
    probes.rowdot1 = probe(() => { for (let s = 0; s < batch; s++) csrMatvec(nRows, indptr, indices, values, null, false, xRows[s]!, yRows[s]!); consume(yRows[0]!); });
    const y = new Float32Array(batch * nRows);
    probes.rowdot4 = probe(() => { csrMatmulRows(nRows, nCols, batch, indptr, indices, values, null, false, x, y); consume(y); });
    for (const width of [4, 8, 16]) {
      const widths = new Array<number>(batch / width).fill(width);
      const xp = new Float64Array(batch * nCols);
      rowsToPanels(x, nCols, widths, xp);
      const yp = new Float64Array(batch * nRows);
      const xv = widths.map((_, p) => xp.subarray(p * width * nCols, (p + 1) * width * nCols));
      const yv = widths.map((_, p) => yp.subarray(p * width * nRows, (p + 1) * width * nRows));
      probes[`panel${width}`] = probe(() => {
        for (let p = 0; p < widths.length; p++) csrMatmulPanel(nRows, width, indptr, indices, values, null, false, xv[p]!, yv[p]!);
        consume(yp);
      });
    }
    cases.push({ sparsity, nnz: csr.nnz, probes });
  }
  measureRounds(cases.flatMap((c) => Object.values(c.probes)), rounds, timer);
  return cases.map((c) => {
    const row: Record<string, number> = { sparsity: c.sparsity };
    for (const [name, p] of Object.entries(c.probes)) row[name] = (2 * c.nnz * batch) / (medianUs(p) * 1e3);
    return row;
  });
}

/**
 * Batch 1 on inputs with zeros (ReLU activations, image background): the SIMD backend's skip-zeros kernel
 * (cscMatvecSkipZeros) against its gather (sellMatvec), on two shapes, two sparsities and three fractions
 * of non-zero inputs — the points WASM_COST_MODEL.skipZeros is fitted on. Median µs per call.
 */
export function skipZerosBenchmark(timer: Timer, rounds: number, rng: Rng, wasm: WasmBench): Record<string, number>[] {
  const { k, arena } = wasm;
  interface Case { nRows: number; nCols: number; sparsity: number; nonZero: number; touched: number; nnz: number; scatter: Probe; gather: Probe }
  const cases: Case[] = [];
  for (const [nRows, nCols] of [[300, 784], [100, 300]] as const) {
    for (const sparsity of [0.9, 0.98]) {
      const w = randomSparseWeight(nRows, nCols, sparsity, rng);
      const csr = csrFromDense(w, nRows, nCols);
      const csc = csrTranspose(csr);
      const sell = placeSell(arena, sellFromCsr(csr));
      const [colptr, rowOffsets, cscValues] = [arena.allocI32(csc.indptr), arena.allocI32(csc.indices.map((r) => 4 * r)), arena.allocF32(csc.values)];
      const bias = arena.alloc(4 * nRows);
      const y = arena.alloc(4 * nRows);
      for (const fraction of [0.1, 0.3, 0.6]) {
        const x = randomArray(nCols, rng).map((v, j) => ((j * 7919) % 1000 < fraction * 1000 ? v : 0));
        let nonZero = 0;
        let touched = 0;
        x.forEach((v, j) => { if (v !== 0) { nonZero++; touched += csc.indptr[j + 1]! - csc.indptr[j]!; } });
        const xAt = arena.allocF32(x);
        cases.push({
          nRows, nCols, sparsity, nonZero, touched, nnz: csr.nnz,
          scatter: probe(() => { k.cscMatvecSkipZeros(nRows, nCols, colptr, rowOffsets, cscValues, bias, 0, xAt, y); consume(arena.f32().subarray(y / 4)); }),
          gather: probe(() => { k.sellMatvec(sell.nSlices, sell.slicePtr, sell.rowOffsets, sell.slots, bias, 0, xAt, y); consume(arena.f32().subarray(y / 4)); }),
        });
      }
    }
  }
  measureRounds(cases.flatMap((c) => [c.scatter, c.gather]), rounds, timer);
  return cases.map((c) => ({
    rows: c.nRows, cols: c.nCols, sparsity: c.sparsity, nnz: c.nnz, nonZeroInputs: c.nonZero, touched: c.touched,
    scatterUs: medianUs(c.scatter), gatherUs: medianUs(c.gather), scatterVsGather: median(c.gather.times.map((t, r) => t / c.scatter.times[r]!)),
  }));
}
