/**
 * Experiment: what WebAssembly SIMD would change for the sparse kernels' targets (issue 3).
 *
 *   npx tsx experiments/wasm-simd/run.ts [--quick]      → table on stdout, experiments/results/wasm-simd.json
 *
 * On W [300 × 784] (the LeNet layer the targets name) with exact uniformly random nonzeros, at batch 1, 64
 * and 256, it times in one interleaved run (benchmark.js, best of rounds, as bench/sparse.ts does):
 *   jsDense     the project's gemmNT (scalar TypeScript), row-major x;
 *   jsSparse    the project's sparse kernels: csrMatvec (batch 1), csrMatmulPanel16 on 16-sample panels;
 *   wasmDense   denseMatvec (batch 1) / densePanel16 on the same panels (kernels.ts);
 *   wasmSparse  spmv (batch 1) / spmmPanel16 on the same panels;
 *   wasmSparseCopy  wasmSparse plus what a JavaScript caller of one layer pays around it: row-major float32
 *               x copied into the module's memory and transposed to panels (rowsToPanels16), and y
 *               transposed back and copied out to a Float32Array (in a network only the first layer's
 *               input and the last layer's output cross this edge);
 *   scipy       scipy.sparse CSR through bench/scipy_csr.py, when python3 with scipy is on PATH.
 * Every kernel's output is checked against gemmNT before anything is timed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { consume, formatTable, machineInfo } from '../../bench/harness.ts';
import { check, measureRounds, probe, randomArray, randomSparseWeight, runScipy, type Probe, type Timer } from '../../bench/sparse.ts';
import { csrFromDense, csrMatmulPanel16, csrMatvec, panelWidths, rowsToPanels } from '../../src/sparse/index.ts';
import { gemmNT, Rng } from '../../src/tensor/index.ts';
import { instantiateKernels, uploadCsr, uploadDense } from './kernels.ts';

const quick = process.argv.includes('--quick');
const [ROWS, COLS] = [300, 784];
const SPARSITIES = quick ? [0, 0.9, 0.98] : [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];
const BATCHES = quick ? [1, 64] : [1, 64, 256];
const timer: Timer = quick ? { minMs: 5, reps: 2 } : { minMs: 8, reps: 2 };
const ROUNDS = quick ? 2 : 3;

const kernels = instantiateKernels();
const rng = new Rng(2026);

interface Cell {
  batch: number;
  sparsity: number;
  nnz: number;
  jsDense: Probe;
  wasmDense: Probe;
  jsSparse: Probe;
  wasmSparse: Probe;
  wasmSparseCopy: Probe;
  scipyUs?: number;
}

/** Per batch: the input in row-major float32, as Float64 panels (for the JS kernels) and in wasm memory. */
const inputs = new Map(BATCHES.map((batch) => {
  const x = randomArray(batch * COLS, rng);
  const widths = panelWidths(batch);
  if (batch > 1 && widths.some((w) => w !== 16)) throw new Error(`batch ${batch} is not a multiple of 16`);
  const panels = new Float64Array(batch * COLS);
  rowsToPanels(x, COLS, widths, panels);
  const panelViews = widths.map((_, p) => panels.subarray(p * 16 * COLS, (p + 1) * 16 * COLS));
  const xAddress = kernels.alloc(4 * batch * COLS);
  const yAddress = kernels.alloc(4 * batch * ROWS);
  const xStaging = kernels.alloc(4 * batch * COLS);
  const yStaging = kernels.alloc(4 * batch * ROWS);
  kernels.f32().set(panels, xAddress / 4); // batch 1: the vector itself
  return [batch, { x, panelViews, xAddress, yAddress, xStaging, yStaging, panelCount: batch === 1 ? 0 : batch / 16 }];
}));

/** wasm output (panels, or the vector at batch 1) → row-major out [batch × rows], through the staging area. */
function readRows(batch: number, yAddress: number, yStaging: number, out: Float32Array): void {
  if (batch > 1) kernels.panelsToRows16(batch / 16, ROWS, yAddress, yStaging);
  const from = (batch === 1 ? yAddress : yStaging) / 4;
  out.set(kernels.f32().subarray(from, from + batch * ROWS));
}

/** Row-major float32 x [batch × cols] → the module's memory in panel layout: one memcpy, then the transpose in wasm. */
function writePanels(batch: number, x: Float32Array, xAddress: number, xStaging: number): void {
  if (batch === 1) {
    kernels.f32().set(x, xAddress / 4);
    return;
  }
  kernels.f32().set(x, xStaging / 4);
  kernels.rowsToPanels16(batch / 16, COLS, xStaging, xAddress);
}

console.error(`building and verifying ${SPARSITIES.length * BATCHES.length} cases ...`);
const cells: Cell[] = [];
const denseProbes = new Map<number, { js: Probe; wasm: Probe }>();
for (const sparsity of SPARSITIES) {
  const w = randomSparseWeight(ROWS, COLS, sparsity, rng);
  const csr = csrFromDense(w, ROWS, COLS);
  const wasmCsr = uploadCsr(kernels, csr);
  const wasmDense = uploadDense(kernels, w, ROWS, COLS);
  for (const batch of BATCHES) {
    const { x, panelViews, xAddress, yAddress, xStaging, yStaging, panelCount } = inputs.get(batch)!;
    const reference = new Float32Array(batch * ROWS);
    gemmNT(batch, ROWS, COLS, x, w, reference);
    const where = `s=${sparsity} batch ${batch}`;

    const yJs = new Float64Array(batch === 1 ? ROWS : 16 * ROWS);
    const jsSparse = batch === 1
      ? (): void => csrMatvec(ROWS, csr.indptr, csr.indices, csr.values, null, false, panelViews[0]!, yJs)
      : (): void => { for (const view of panelViews) csrMatmulPanel16(ROWS, csr.indptr, csr.indices, csr.values, null, false, view, yJs); };
    const wasmSparse = batch === 1
      ? (): void => kernels.spmv(ROWS, wasmCsr.indptr, wasmCsr.vectorOffsets, wasmCsr.values, xAddress, yAddress)
      : (): void => {
        for (let p = 0; p < panelCount; p++) kernels.spmmPanel16(ROWS, wasmCsr.indptr, wasmCsr.panelOffsets, wasmCsr.values, xAddress + p * 64 * COLS, yAddress + p * 64 * ROWS);
      };
    const yRows = new Float32Array(batch * ROWS);
    const wasmSparseCopy = (): void => {
      writePanels(batch, x, xAddress, xStaging);
      wasmSparse();
      readRows(batch, yAddress, yStaging, yRows);
    };
    wasmSparseCopy();
    check(`${where} wasm sparse`, yRows, reference);
    if (batch === 1) {
      jsSparse();
      check(`${where} js sparse`, yJs, reference);
    }

    if (!denseProbes.has(batch)) {
      // Dense time does not depend on the values: one pair of probes per batch, on the first weights.
      const yDense = new Float32Array(batch * ROWS);
      const wasmDenseKernel = batch === 1
        ? (): void => kernels.denseMatvec(wasmDense.rows, wasmDense.cols, wasmDense.address, xAddress, yAddress)
        : (): void => {
          for (let p = 0; p < panelCount; p++) kernels.densePanel16(wasmDense.rows, wasmDense.cols, wasmDense.address, xAddress + p * 64 * COLS, yAddress + p * 64 * ROWS);
        };
      wasmDenseKernel();
      readRows(batch, yAddress, yStaging, yRows);
      check(`${where} wasm dense`, yRows, reference);
      denseProbes.set(batch, {
        js: probe(() => { gemmNT(batch, ROWS, COLS, x, w, yDense); consume(yDense); }),
        wasm: probe(() => { wasmDenseKernel(); consume(kernels.f32().subarray(yAddress / 4)); }),
      });
    }
    const dense = denseProbes.get(batch)!;
    cells.push({
      batch, sparsity, nnz: csr.nnz,
      jsDense: dense.js, wasmDense: dense.wasm,
      jsSparse: probe(() => { jsSparse(); consume(yJs); }),
      wasmSparse: probe(() => { wasmSparse(); consume(kernels.f32().subarray(yAddress / 4)); }),
      wasmSparseCopy: probe(() => { wasmSparseCopy(); consume(yRows); }),
    });
  }
}

const probes: Probe[] = [];
for (const batch of BATCHES) {
  const group = cells.filter((c) => c.batch === batch);
  probes.push(group[0]!.jsDense, group[0]!.wasmDense);
  for (const c of group) probes.push(c.jsSparse, c.wasmSparse, c.wasmSparseCopy);
}
let scipyVersion: string | null = null;
let scipyNote = '';
measureRounds(probes, ROUNDS, timer, (round) => {
  console.error(`round ${round + 1}/${ROUNDS} done; scipy ...`);
  const scipy = runScipy(SPARSITIES.map((sparsity) => ({ rows: ROWS, cols: COLS, sparsity, batches: BATCHES })), timer);
  if ('error' in scipy) {
    scipyNote = `scipy not measured: ${scipy.error}`;
    return;
  }
  scipyVersion = scipy.version;
  for (const r of scipy.results) {
    const cell = cells.find((c) => c.batch === r.batch && Math.abs(c.sparsity - r.sparsity) < 1e-9);
    if (cell !== undefined && r.nnz === cell.nnz) cell.scipyUs = Math.min(cell.scipyUs ?? Infinity, r.us);
  }
});
if (scipyNote !== '') console.error(scipyNote);

const rows = cells.map((c) => {
  const [jsDense, jsSparse, wasmDense, wasmSparse] = [c.jsDense.best, c.jsSparse.best, c.wasmDense.best, c.wasmSparse.best];
  return {
    batch: c.batch, sparsity: c.sparsity, nnz: c.nnz, ideal: 1 / (1 - c.sparsity),
    jsDenseUs: jsDense, jsSparseUs: jsSparse, wasmDenseUs: wasmDense, wasmSparseUs: wasmSparse, wasmSparseCopyUs: c.wasmSparseCopy.best,
    scipyUs: c.scipyUs,
    /** sparse over dense, each within one technology */
    jsSpeedup: jsDense / jsSparse,
    wasmSpeedup: wasmDense / wasmSparse,
    /** SIMD over scalar TypeScript, same algorithm */
    simdGainDense: jsDense / wasmDense,
    simdGainSparse: jsSparse / wasmSparse,
    /** speed relative to scipy (> 1: faster than scipy) */
    jsVsScipy: c.scipyUs === undefined ? undefined : c.scipyUs / jsSparse,
    wasmVsScipy: c.scipyUs === undefined ? undefined : c.scipyUs / wasmSparse,
    wasmCopyVsScipy: c.scipyUs === undefined ? undefined : c.scipyUs / c.wasmSparseCopy.best,
    wasmSparseGflops: (2 * c.nnz * c.batch) / (wasmSparse * 1e3),
    wasmDenseGflops: (2 * ROWS * COLS * c.batch) / (wasmDense * 1e3),
  };
});

console.log(formatTable(rows, ['batch', 'sparsity', 'ideal', 'jsDenseUs', 'jsSparseUs', 'wasmDenseUs', 'wasmSparseUs', 'wasmSparseCopyUs', 'scipyUs',
  'jsSpeedup', 'wasmSpeedup', 'simdGainDense', 'simdGainSparse', 'jsVsScipy', 'wasmVsScipy', 'wasmCopyVsScipy']));
if (!quick) {
  mkdirSync('experiments/results', { recursive: true });
  const result = { machine: machineInfo(), shape: [ROWS, COLS], scipy: scipyVersion ?? scipyNote, rounds: ROUNDS, timer, rows };
  writeFileSync('experiments/results/wasm-simd.json', JSON.stringify(result, null, 2) + '\n');
  console.error('wrote experiments/results/wasm-simd.json');
}
