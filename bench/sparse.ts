/**
 * Sparse benchmark: CSR/BSR kernels and compiled sparse inference against the project's dense kernel
 * (gemmNT) and scipy's CSR, on Linear-layer shapes.  `npx tsx bench/run.ts sparse [--json] [--quick]`
 *
 * Each row times y = x·Wᵀ for W [rows × cols] with an exact number of uniformly random nonzeros
 * (nnz = round((1 − sparsity)·rows·cols)), at batch 1, 64 and 256:
 *   denseUs   gemmNT on row-major x and the dense W (same weights; verified equal to the sparse result);
 *   sparseUs  the fastest sparse kernel for that batch (`kernel`): csrMatvec at batch 1; at batch > 1 the
 *             panel kernel on panel-layout activations (as scipy gets Xt) or csrMatmulRows on row-major x;
 *   layoutUs  the panel kernel plus the conversions rows → panels → rows (a single layer run on its own);
 *   rowsUs    csrMatmulRows (row-major, 4 samples per pass), the PEERS.md `rowdot4` baseline;
 *   scipyUs   scipy.sparse csr_matrix (bench/scipy_csr.py), when python3 with scipy is on PATH;
 *   wasmDenseUs / wasmSparseUs   the WebAssembly SIMD backend's kernels (src/sparse/backends/wasm-simd) on the same
 *             weights and panel-layout inputs in the module's memory (denseMatvec / spmv at batch 1,
 *             densePanel16 / spmmPanel16 per 16-sample panel), when the engine has WebAssembly SIMD;
 *             wasmSpeedup is within that backend, bestSpeedup is fastest dense over fastest sparse.
 * Timing: benchmark.js (the harness's `measure`) for the JS kernels, interleaved over rounds, keeping the best round;
 * scipy is timed by a calibrated loop in Python
 * (the machine is shared, and the fastest repetition is the one least disturbed by other processes).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gemmNT, Rng } from '../src/tensor/index.ts';
import {
  bsrFromDense,
  bsrMatmulPanel,
  compileInference,
  csrFromDense,
  wasmSimdSupported,
  csrMatmulPanel,
  csrMatmulRows,
  csrMatvec,
  panelsToRows,
  panelViews,
  panelWidths,
  rowsToPanels,
  type InferenceLayer,
} from '../src/sparse/index.ts';
import { loadDigits } from '../src/node/data.ts';
import { placeCsr, WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels, type WasmKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { consume, formatTable, measure, say, type BenchOptions } from './harness.ts';

interface Row {
  rows: number;
  cols: number;
  batch: number;
  sparsity: number;
  nnz: number;
  denseUs: number;
  sparseUs: number;
  speedup: number;
  ideal: number;
  gflops: number;
  kernel: string;
  layoutUs: number;
  rowsUs: number;
  scipyUs?: number;
  vsScipy?: number;
  /** The WebAssembly SIMD kernels (src/sparse/backends/wasm-simd), when the engine has them: dense and sparse µs, */
  wasmDenseUs?: number;
  wasmSparseUs?: number;
  /** wasm dense / wasm sparse (the speedup within the SIMD backend), */
  wasmSpeedup?: number;
  /** scipy µs / wasm sparse µs, */
  wasmVsScipy?: number;
  /** and the fastest dense (either backend) over the fastest sparse (either backend). */
  bestSpeedup?: number;
}

export interface Timer {
  minMs: number;
  reps: number;
}

/** Best microseconds per call: calibrated inner loop (≥ minMs), best of `reps` repetitions. */
export function time(fn: () => void, timer: Timer): number {
  // benchmark.js (harness `measure`): calibrated cycles, mean of its samples; the caller keeps the best
  // over interleaved rounds.
  return measure('sparse', fn, { maxTime: (timer.minMs * timer.reps) / 1000, minSamples: 3, minTime: timer.minMs / 1000 }).seconds * 1e6;
}

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
function randomBlockWeight(rows: number, cols: number, sparsity: number, rng: Rng): Float32Array {
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
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
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

export interface ScipyResult {
  rows: number;
  cols: number;
  sparsity: number;
  batch: number;
  nnz: number;
  us: number;
}

/** Runs bench/scipy_csr.py with python3 from PATH; returns null (and why) when python3 or scipy is missing. */
export function runScipy(configs: { rows: number; cols: number; sparsity: number; batches: number[] }[], timer: Timer): { version: string; results: ScipyResult[] } | { error: string } {
  const script = fileURLToPath(new URL('./scipy_csr.py', import.meta.url));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  const child = spawnSync('python3', [script], {
    input: JSON.stringify({ configs, seed: 7, minSeconds: timer.minMs / 1000, reps: timer.reps }),
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (child.error) return { error: `python3 could not be started (${child.error.message})` };
  if (child.status !== 0) return { error: `python3 ${script} failed: ${child.stderr.trim().split('\n').pop() ?? ''}` };
  const parsed = JSON.parse(child.stdout) as { scipy: string; results: ScipyResult[] };
  return { version: parsed.scipy, results: parsed.results };
}

interface WasmBuffers {
  /** Byte addresses: input (panels, or the vector at batch 1), output, row-major output, zero bias. */
  x: number;
  y: number;
  yRows: number;
  zeroBias: number;
}

/** Input and output buffers for one (shape, batch); x is the same panel layout the TypeScript kernels get. */
function wasmBuffers(arena: WasmArena, x: Float32Array, xPanels: Float64Array, nRows: number, nCols: number, batch: number): WasmBuffers {
  return {
    x: arena.allocF32(batch === 1 ? x : xPanels),
    y: arena.alloc(4 * batch * nRows),
    yRows: arena.alloc(4 * batch * nRows),
    zeroBias: arena.alloc(4 * nRows),
  };
}

/** The wasm output as a row-major copy, for the correctness check. */
function readWasmRows(arena: WasmArena, k: WasmKernels, io: WasmBuffers, nRows: number, batch: number): Float32Array {
  if (batch === 1) return arena.f32().slice(io.y / 4, io.y / 4 + nRows);
  k.panelsToRows16(batch / 16, nRows, io.y, io.yRows);
  return arena.f32().slice(io.yRows / 4, io.yRows / 4 + batch * nRows);
}

function sameSparsity(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

/** One timed thing: its closure and the best time seen over all rounds. */
export interface Probe {
  fn: () => void;
  best: number;
}

export function probe(fn: () => void): Probe {
  return { fn, best: Infinity };
}

/** Runs every probe once per round, in order, keeping each one's best time: interleaving makes the
 * ratios (dense vs sparse, kernel vs kernel) come from the same minutes of a shared machine. */
export function measureRounds(probes: Probe[], rounds: number, timer: Timer, between?: (round: number) => void): void {
  for (let round = 0; round < rounds; round++) {
    for (const p of probes) p.best = Math.min(p.best, time(p.fn, timer));
    between?.(round);
  }
}

interface Cell {
  nRows: number;
  nCols: number;
  batch: number;
  sparsity: number;
  nnz: number;
  dense: Probe;
  matvec: Probe | null;
  panel: Probe | null;
  layout: Probe;
  rowsKernel: Probe;
  wasmDense: Probe | null;
  wasmSparse: Probe | null;
  scipyUs?: number;
}

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  const quick = options.quick;
  const shapes: [number, number][] = quick ? [[300, 784], [100, 300]] : [[300, 784], [100, 300], [10, 100], [1024, 1024]];
  const sparsities = quick ? [0, 0.5, 0.9, 0.98] : [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];
  const batches = quick ? [1, 64] : [1, 64, 256];
  const timer: Timer = quick ? { minMs: 5, reps: 2 } : { minMs: 8, reps: 2 };
  const rounds = quick ? 2 : 3;
  const rng = new Rng(2026);
  let scipyNote = '';
  let scipyVersion: string | null = null;

  say(options, `building and verifying ${shapes.length * sparsities.length * batches.length} cases ...`);
  const cells: Cell[] = [];
  const denseProbes = new Map<string, Probe>();
  const wasmDenseProbes = new Map<string, Probe>();
  const wasm = instantiateKernels();
  if (wasm === null) say(options, 'WebAssembly SIMD is not available here: the wasm columns stay empty');
  const arena = wasm === null ? null : new WasmArena(wasm.memory);
  for (const [nRows, nCols] of shapes) {
    const inputs = new Map<number, Float32Array>(batches.map((b) => [b, randomArray(b * nCols, rng)]));
    const wasmInputs = new Map<number, WasmBuffers>();
    for (const sparsity of sparsities) {
      const w = randomSparseWeight(nRows, nCols, sparsity, rng);
      const csr = csrFromDense(w, nRows, nCols);
      const { indptr, indices, values } = csr;
      const wasmCsr = arena === null ? null : placeCsr(arena, csr);
      for (const batch of batches) {
        const x = inputs.get(batch)!;
        const widths = panelWidths(batch);
        const yDense = new Float32Array(batch * nRows);
        gemmNT(batch, nRows, nCols, x, w, yDense);
        // Dense time does not depend on the values: one probe per (shape, batch), on the first weights.
        const denseKey = `${nRows}x${nCols}x${batch}`;
        if (!denseProbes.has(denseKey)) {
          const yd = new Float32Array(batch * nRows);
          denseProbes.set(denseKey, probe(() => { gemmNT(batch, nRows, nCols, x, w, yd); consume(yd); }));
        }
        const xPanels = new Float64Array(batch * nCols);
        const yPanels = new Float64Array(batch * nRows);
        const yRows = new Float64Array(batch * nRows);
        rowsToPanels(x, nCols, widths, xPanels);
        const xViews: Float64Array[] = [];
        const yViews: Float64Array[] = [];
        let s0 = 0;
        for (const wd of widths) {
          xViews.push(xPanels.subarray(s0 * nCols, (s0 + wd) * nCols));
          yViews.push(yPanels.subarray(s0 * nRows, (s0 + wd) * nRows));
          s0 += wd;
        }
        const panelKernel = (): void => {
          for (let p = 0; p < widths.length; p++) csrMatmulPanel(nRows, widths[p]!, indptr, indices, values, null, false, xViews[p]!, yViews[p]!);
        };
        const withLayout = (): void => {
          rowsToPanels(x, nCols, widths, xPanels);
          panelKernel();
          panelsToRows(yPanels, nRows, widths, yRows);
        };
        const yRowMajor = new Float32Array(batch * nRows);
        const rowsKernel = (): void => csrMatmulRows(nRows, nCols, batch, indptr, indices, values, null, false, x, yRowMajor);
        const xVector = new Float64Array(x);
        const yVector = new Float64Array(nRows);
        const matvec = (): void => csrMatvec(nRows, indptr, indices, values, null, false, xVector, yVector);

        const where = `${nRows}×${nCols} s=${sparsity} batch ${batch}`;
        withLayout();
        check(`${where} panel`, yRows, yDense);
        rowsKernel();
        check(`${where} rows`, yRowMajor, yDense);
        if (batch === 1) {
          matvec();
          check(`${where} matvec`, yVector, yDense);
        }
        // The same layer on the WebAssembly SIMD kernels, activations already in the module's memory in
        // panel layout (as the TypeScript panel kernel gets Float64 panels and scipy gets Xt).
        let wasmDense: Probe | null = null;
        let wasmSparse: Probe | null = null;
        if (wasm !== null && arena !== null && wasmCsr !== null) {
          const k = wasm.kernels;
          if (!wasmInputs.has(batch)) wasmInputs.set(batch, wasmBuffers(arena, x, xPanels, nRows, nCols, batch));
          const io = wasmInputs.get(batch)!;
          const panels = batch === 1 ? 0 : batch / 16;
          const sparseRun = batch === 1
            ? (): void => k.spmv(nRows, wasmCsr.indptr, wasmCsr.vectorOffsets, wasmCsr.values, io.zeroBias, 0, io.x, io.y)
            : (): void => {
              for (let p = 0; p < panels; p++) k.spmmPanel16(nRows, wasmCsr.indptr, wasmCsr.panelOffsets, wasmCsr.values, io.zeroBias, 0, io.x + p * 64 * nCols, io.y + p * 64 * nRows);
            };
          sparseRun();
          check(`${where} wasm sparse`, readWasmRows(arena, k, io, nRows, batch), yDense);
          wasmSparse = probe(() => { sparseRun(); consume(arena.f32().subarray(io.y / 4)); });
          if (!wasmDenseProbes.has(denseKey)) {
            const wAddress = arena.allocF32(w);
            const denseRun = batch === 1
              ? (): void => k.denseMatvec(nRows, nCols, wAddress, io.zeroBias, 0, io.x, io.y)
              : (): void => {
                for (let p = 0; p < panels; p++) k.densePanel16(nRows, nCols, wAddress, io.zeroBias, 0, io.x + p * 64 * nCols, io.y + p * 64 * nRows);
              };
            denseRun();
            check(`${where} wasm dense`, readWasmRows(arena, k, io, nRows, batch), yDense);
            wasmDenseProbes.set(denseKey, probe(() => { denseRun(); consume(arena.f32().subarray(io.y / 4)); }));
          }
          wasmDense = wasmDenseProbes.get(denseKey)!;
        }
        cells.push({
          nRows, nCols, batch, sparsity, nnz: csr.nnz,
          dense: denseProbes.get(denseKey)!,
          matvec: batch === 1 ? probe(() => { matvec(); consume(yVector); }) : null,
          panel: batch === 1 ? null : probe(() => { panelKernel(); consume(yPanels); }),
          layout: probe(() => { withLayout(); consume(yRows); }),
          rowsKernel: probe(() => { rowsKernel(); consume(yRowMajor); }),
          wasmDense,
          wasmSparse,
        });
      }
    }
  }

  // Probes in sweep order: per (shape, batch) the dense kernel, then every sparsity's sparse kernels.
  const probes: Probe[] = [];
  for (const [nRows, nCols] of shapes) {
    for (const batch of batches) {
      const group = cells.filter((c) => c.nRows === nRows && c.nCols === nCols && c.batch === batch);
      probes.push(group[0]!.dense);
      if (group[0]!.wasmDense !== null) probes.push(group[0]!.wasmDense);
      for (const c of group) for (const p of [c.matvec, c.panel, c.layout, c.rowsKernel, c.wasmSparse]) if (p !== null) probes.push(p);
    }
  }
  const scipyConfigs = shapes.flatMap(([r, c]) => sparsities.map((sparsity) => ({ rows: r, cols: c, sparsity, batches })));
  measureRounds(probes, rounds, timer, (round) => {
    say(options, `round ${round + 1}/${rounds} done; scipy ...`);
    const scipy = runScipy(scipyConfigs, timer);
    if ('error' in scipy) {
      scipyNote = `scipy not measured: ${scipy.error}`;
      return;
    }
    scipyVersion = scipy.version;
    for (const r of scipy.results) {
      const cell = cells.find((c) => c.nRows === r.rows && c.nCols === r.cols && c.batch === r.batch && sameSparsity(c.sparsity, r.sparsity));
      if (cell !== undefined && r.nnz === cell.nnz) cell.scipyUs = Math.min(cell.scipyUs ?? Infinity, r.us);
    }
  });
  if (scipyNote !== '') say(options, scipyNote);

  const rows: Row[] = cells.map((c) => {
    const denseUs = c.dense.best;
    const candidates: [string, number][] = c.batch === 1
      ? [['csrMatvec', c.matvec!.best]]
      : [['csrMatmulPanel16', c.panel!.best], ['csrMatmulRows', c.rowsKernel.best]];
    candidates.sort((a, b) => a[1] - b[1]);
    const [kernel, sparseUs] = candidates[0]!;
    const row: Row = {
      rows: c.nRows, cols: c.nCols, batch: c.batch, sparsity: c.sparsity, nnz: c.nnz,
      denseUs, sparseUs, speedup: denseUs / sparseUs, ideal: 1 / (1 - c.sparsity),
      gflops: c.nnz === 0 ? 0 : (2 * c.nnz * c.batch) / (sparseUs * 1e3), kernel,
      layoutUs: c.layout.best, rowsUs: c.rowsKernel.best,
    };
    if (c.scipyUs !== undefined) {
      row.scipyUs = c.scipyUs;
      row.vsScipy = c.scipyUs / sparseUs;
    }
    if (c.wasmDense !== null && c.wasmSparse !== null) {
      row.wasmDenseUs = c.wasmDense.best;
      row.wasmSparseUs = c.wasmSparse.best;
      row.wasmSpeedup = c.wasmDense.best / c.wasmSparse.best;
      if (c.scipyUs !== undefined) row.wasmVsScipy = c.scipyUs / c.wasmSparse.best;
      row.bestSpeedup = Math.min(denseUs, c.wasmDense.best) / Math.min(sparseUs, c.wasmSparse.best);
    }
    return row;
  });

  // Break-even: the lowest sparsity from which sparse wins at every higher grid point, plus a log-linear
  // interpolation of the speedup between the last losing and the first winning grid point.
  const breakEven: Record<string, unknown>[] = [];
  for (const [nRows, nCols] of shapes) {
    for (const batch of batches) {
      const series = rows.filter((r) => r.rows === nRows && r.cols === nCols && r.batch === batch).sort((a, b) => a.sparsity - b.sparsity);
      let first = series.length;
      while (first > 0 && series[first - 1]!.speedup > 1) first--;
      const win = series[first];
      const lose = first > 0 ? series[first - 1] : undefined;
      let interpolated: number | null = win === undefined ? null : win.sparsity;
      if (win !== undefined && lose !== undefined) {
        const t = Math.log(lose.speedup) / (Math.log(lose.speedup) - Math.log(win.speedup));
        interpolated = lose.sparsity + t * (win.sparsity - lose.sparsity);
      }
      breakEven.push({ rows: nRows, cols: nCols, batch, breakEvenSparsity: win?.sparsity ?? null, interpolated });
    }
  }

  say(options, 'block-pruned weights and LeNet ...');
  const blocks = blockBenchmark(quick, timer, rounds, rng);
  const lenet = lenetBenchmark(quick, timer, rounds, rng);
  const alternatives = alternativesBenchmark(quick, timer, rounds, rng);
  const costModel = fitCostModel(rows, blocks, alternatives);

  const columns = ['rows', 'cols', 'batch', 'sparsity', 'nnz', 'denseUs', 'sparseUs', 'speedup', 'ideal', 'gflops', 'kernel', 'layoutUs', 'rowsUs', 'scipyUs', 'vsScipy'];
  say(options, formatTable(rows as unknown as Record<string, unknown>[], columns));
  if (wasm !== null) {
    say(options, '\nWebAssembly SIMD backend (src/sparse/backends/wasm-simd), same layers, same rounds:');
    say(options, formatTable(rows as unknown as Record<string, unknown>[], ['rows', 'cols', 'batch', 'sparsity', 'denseUs', 'sparseUs', 'wasmDenseUs', 'wasmSparseUs', 'speedup', 'wasmSpeedup', 'bestSpeedup', 'ideal', 'scipyUs', 'wasmVsScipy']));
  }
  say(options, '\nbreak-even sparsity (sparse faster than gemmNT from here on):');
  say(options, formatTable(breakEven, ['rows', 'cols', 'batch', 'breakEvenSparsity', 'interpolated']));
  say(options, '\n4×1 block-pruned weights, CSR vs BSR kernels (µs):');
  say(options, formatTable(blocks, ['rows', 'cols', 'batch', 'sparsity', 'nnz', 'denseUs', 'csrUs', 'bsrUs', 'bsrVsCsr']));
  say(options, '\nLeNet-300-100 (784-300-100-10, ReLU), every layer 95 % sparse, compileInference (µs per predict):');
  say(options, formatTable(lenet, ['batch', 'input', 'denseUs', 'sparseUs', 'speedup', 'kernels', 'wasmDenseUs', 'wasmSparseUs', 'wasmSpeedup', 'wasmKernels', 'bestSpeedup', 'maxRelError']));
  say(options, '\nbatch-64 kernel alternatives on 300×784 (effective GFLOP/s = 2·nnz·batch/time):');
  say(options, formatTable(alternatives, ['sparsity', 'rowdot1', 'rowdot4', 'panel4', 'panel8', 'panel16']));
  say(options, `\ncost model, ns per multiply-add (median over the rows above): ${JSON.stringify(costModel)}`);
  if (scipyVersion !== null) say(options, `scipy ${scipyVersion} (python3 on PATH, OPENBLAS_NUM_THREADS=1)`);
  return { rows, breakEven, blocks, lenet, alternatives, costModel, scipy: scipyVersion ?? scipyNote, timing: { ...timer, rounds, rule: 'best of rounds × reps, each a calibrated loop of ≥ minMs' } };
}

/** CSR vs 4×1 BSR on weights pruned in 4×1 blocks (300×784). */
function blockBenchmark(quick: boolean, timer: Timer, rounds: number, rng: Rng): Record<string, unknown>[] {
  const [nRows, nCols] = [300, 784];
  const cases: { batch: number; sparsity: number; nnz: number; dense: Probe; csr: Probe; bsr: Probe }[] = [];
  for (const sparsity of quick ? [0.9] : [0.5, 0.8, 0.9, 0.95, 0.98]) {
    const w = randomBlockWeight(nRows, nCols, sparsity, rng);
    const csr = csrFromDense(w, nRows, nCols);
    const bsr = bsrFromDense(w, nRows, nCols);
    for (const batch of quick ? [1, 64] : [1, 64, 256]) {
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
      cases.push({
        batch, sparsity, nnz: csr.nnz,
        dense: probe(() => { gemmNT(batch, nRows, nCols, x, w, yDense); consume(yDense); }),
        csr: probe(() => { runCsr(); consume(yCsr); }),
        bsr: probe(() => { runBsr(); consume(yBsr); }),
      });
    }
  }
  measureRounds(cases.flatMap((c) => [c.dense, c.csr, c.bsr]), rounds, timer);
  return cases.map((c) => ({
    rows: nRows, cols: nCols, batch: c.batch, sparsity: c.sparsity, nnz: c.nnz,
    denseUs: c.dense.best, csrUs: c.csr.best, bsrUs: c.bsr.best, bsrVsCsr: c.csr.best / c.bsr.best,
  }));
}

/** A 95 %-sparse LeNet-300-100 through compileInference ('auto') against the same network forced dense. */
function lenetBenchmark(quick: boolean, timer: Timer, rounds: number, rng: Rng): Record<string, unknown>[] {
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
  const dense = compileInference(layers, { strategy: 'dense' });
  const sparse = compileInference(layers, { strategy: 'auto' });
  const simd = wasmSimdSupported();
  const wasmDense = simd ? compileInference(layers, { backend: 'wasm-simd', strategy: 'dense' }) : null;
  const wasmSparse = simd ? compileInference(layers, { backend: 'wasm-simd', strategy: 'auto' }) : null;
  interface LenetCase { batch: number; input: string; err: number; dense: Probe; sparse: Probe; wasmDense: Probe | null; wasmSparse: Probe | null }
  const cases: LenetCase[] = [];
  // Inputs: Gaussian noise (every input non-zero), and real digits from the built-in test split, whose
  // ~80 % background zeros let the batch-1 path skip most of the first layer's weights.
  const digits = loadDigits().test;
  const grid = (quick ? [1, 64] : [1, 64, 256]).flatMap((batch) => [{ batch, input: 'random' }, { batch, input: 'digits' }]);
  for (const { batch, input } of grid) {
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
  return cases.map((c) => ({
    batch: c.batch, input: c.input, denseUs: c.dense.best, sparseUs: c.sparse.best, speedup: c.dense.best / c.sparse.best,
    kernels: sparse.kernels(c.batch).join(','), maxRelError: c.err,
    ...(c.wasmDense === null || c.wasmSparse === null ? {} : {
      wasmDenseUs: c.wasmDense.best,
      wasmSparseUs: c.wasmSparse.best,
      wasmSpeedup: c.wasmDense.best / c.wasmSparse.best,
      wasmKernels: wasmSparse!.kernels(c.batch).join(','),
      bestSpeedup: Math.min(c.dense.best, c.wasmDense.best) / Math.min(c.sparse.best, c.wasmSparse.best),
    }),
  }));
}

/**
 * The loop orders and layouts considered for a batch, on 300×784 at batch 64: one sparse row-dot per sample
 * (csrMatvec on each row of x), four samples per pass (csrMatmulRows), and the feature-major panel kernel
 * with every panel 4, 8 or 16 samples wide. Values are effective GFLOP/s.
 */
function alternativesBenchmark(quick: boolean, timer: Timer, rounds: number, rng: Rng): Record<string, number>[] {
  const [nRows, nCols, batch] = [300, 784, 64];
  const x = randomArray(batch * nCols, rng);
  const cases: { sparsity: number; nnz: number; probes: Record<string, Probe> }[] = [];
  for (const sparsity of quick ? [0.9] : [0.5, 0.9, 0.98]) {
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
    for (const [name, p] of Object.entries(c.probes)) row[name] = (2 * c.nnz * batch) / (p.best * 1e3);
    return row;
  });
}

/** Medians of ns per multiply-add: the constants of JS_COST_MODEL (src/sparse/backends/js/cost-model.ts). */
function fitCostModel(rows: Row[], blocks: Record<string, unknown>[], alternatives: Record<string, number>[]): Record<string, number> {
  const median = (xs: number[]): number => {
    const s = xs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
  };
  const big = rows.filter((r) => r.rows * r.cols >= 30000);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const csr1 = big.filter((r) => r.batch === 1 && r.sparsity > 0 && r.sparsity <= 0.9);
  const csrB = big.filter((r) => r.batch > 1 && r.sparsity > 0 && r.sparsity <= 0.9);
  return {
    denseNsSmall: round(median(big.filter((r) => r.batch === 1).map((r) => (r.denseUs * 1e3) / (r.rows * r.cols)))),
    denseNsBatch: round(median(big.filter((r) => r.batch > 1).map((r) => (r.denseUs * 1e3) / (r.batch * r.rows * r.cols)))),
    csrNs1: round(median(csr1.map((r) => (r.sparseUs * 1e3) / r.nnz))),
    csrNs16: round(median(csrB.map((r) => (r.sparseUs * 1e3) / (r.batch * r.nnz)))),
    csrNs4: round(median(alternatives.map((a) => 2 / a.panel4!))),
    csrNs8: round(median(alternatives.map((a) => 2 / a.panel8!))),
    bsrNs1: round(median(blocks.filter((b) => b.batch === 1).map((b) => ((b.bsrUs as number) * 1e3) / (b.nnz as number)))),
    bsrNs16: round(median(blocks.filter((b) => (b.batch as number) > 1).map((b) => ((b.bsrUs as number) * 1e3) / ((b.batch as number) * (b.nnz as number))))),
    // The WebAssembly SIMD backend's WASM_COST_MODEL (src/sparse/backends/wasm-simd/cost-model.ts)
    wasmDenseVectorNs: round(median(big.filter((r) => r.batch === 1 && r.wasmDenseUs !== undefined).map((r) => (r.wasmDenseUs! * 1e3) / (r.rows * r.cols)))),
    wasmDensePanelNs: round(median(big.filter((r) => r.batch > 1 && r.wasmDenseUs !== undefined).map((r) => (r.wasmDenseUs! * 1e3) / (r.batch * r.rows * r.cols)))),
    wasmCsrVectorNs: round(median(csr1.filter((r) => r.wasmSparseUs !== undefined).map((r) => (r.wasmSparseUs! * 1e3) / r.nnz))),
    wasmCsrPanelNs: round(median(csrB.filter((r) => r.wasmSparseUs !== undefined).map((r) => (r.wasmSparseUs! * 1e3) / (r.batch * r.nnz)))),
  };
}
