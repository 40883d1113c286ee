/**
 * Sparse benchmark: CSR/BSR kernels and compiled sparse inference against the dense kernel of the same backend,
 * and scipy's CSR, on Linear-layer shapes.
 *
 *   npx tsx bench/run.ts sparse [--json] [--quick] [rounds=N] [cpu] [shapes=300x784,…] [sparsities=0.9,…] [batches=1,…]
 *
 * `cpu` times by CPU time instead of wall time, for a machine shared with other jobs (bench/rounds.ts); the
 * list arguments restrict the grid (the sections after it run as usual).
 *
 * Each row times y = x·Wᵀ for W [rows × cols] with an exact number of uniformly random nonzeros
 * (nnz = round((1 − sparsity)·rows·cols)), at batch 1, 64 and 256:
 *   denseUs   TypeScript: gemmNT on row-major x and the dense W (same weights; verified equal to every sparse result);
 *   sparseUs  TypeScript: the fastest sparse kernel for that batch (`kernel`): csrMatvec at batch 1; at batch > 1
 *             the panel kernel on panel-layout activations (as scipy gets Xt) or csrMatmulRows on row-major x;
 *   layoutUs  the panel kernel plus the conversions rows → panels → rows (a single layer run on its own);
 *   rowsUs    csrMatmulRows (row-major, 4 samples per pass), the PEERS.md `rowdot4` baseline;
 *   scipyUs   scipy.sparse csr_matrix (bench/scipy_csr.py), when python3 with scipy is found;
 *   wasmDenseUs / wasmSparseUs   the WebAssembly SIMD backend (src/sparse/backends/wasm-simd) on the same weights
 *             and panel-layout inputs in the module's memory: denseMatvec / sellMatvec (SELL-4) at batch 1,
 *             densePanel16 / spmmPanel16 per 16-sample panel above; wasmSpmvUs is the scalar CSR gather (spmv)
 *             at batch 1, for comparison;
 *   speedup, wasmSpeedup   dense / sparse within one backend; bestSpeedup: fastest dense over fastest sparse.
 * Timing (bench/rounds.ts): benchmark.js per measurement; every probe runs once per round, rounds interleaved,
 * ≥ 5 rounds; a time is the median over rounds, a ratio (speedup, vsScipy, …) the median of the per-round
 * ratios, with its min and max over rounds (fields …Min, …Max). scipy is timed once per round by a
 * calibrated loop in Python (best of its repetitions within the round).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gemmNT, Rng } from '../src/tensor/index.ts';
import { csrFromDense, csrMatmulPanel, csrMatmulRows, csrMatvec, panelsToRows, panelWidths, rowsToPanels } from '../src/sparse/index.ts';
import { placeCsr, placeSell, WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { sellFromCsr } from '../src/sparse/backends/wasm-simd/sell.ts';
import { consume, formatTable, say, type BenchOptions } from './harness.ts';
import { measureRounds, median, medianUs, probe, ratioSpread, type Probe, type Spread, type Timer } from './rounds.ts';
import {
  alternativesBenchmark, blockBenchmark, check, lenetBenchmark, randomArray, randomSparseWeight, readWasmRows, skipZerosBenchmark, type WasmBench,
} from './sparse-sections.ts';

export { randomArray, randomSparseWeight } from './sparse-sections.ts';

interface Row {
  rows: number;
  cols: number;
  batch: number;
  sparsity: number;
  nnz: number;
  denseUs: number;
  sparseUs: number;
  speedup: number;
  speedupMin: number;
  speedupMax: number;
  ideal: number;
  gflops: number;
  kernel: string;
  layoutUs: number;
  rowsUs: number;
  scipyUs?: number;
  vsScipy?: number;
  wasmDenseUs?: number;
  wasmSparseUs?: number;
  wasmSpmvUs?: number;
  /** wasm dense / wasm sparse (the speedup within the SIMD backend): median and range over rounds, */
  wasmSpeedup?: number;
  wasmSpeedupMin?: number;
  wasmSpeedupMax?: number;
  /** scipy / wasm sparse, */
  wasmVsScipy?: number;
  wasmVsScipyMin?: number;
  wasmVsScipyMax?: number;
  /** and the fastest dense (either backend) over the fastest sparse (either backend). */
  bestSpeedup?: number;
}

export interface ScipyResult {
  rows: number;
  cols: number;
  sparsity: number;
  batch: number;
  nnz: number;
  us: number;
}

/**
 * Runs bench/scipy_csr.py with the first of `python3` (PATH) and /usr/bin/python3 that imports scipy; returns
 * why not when neither does.
 */
export function runScipy(configs: { rows: number; cols: number; sparsity: number; batches: number[] }[], timer: Timer): { version: string; results: ScipyResult[] } | { error: string } {
  const script = fileURLToPath(new URL('./scipy_csr.py', import.meta.url));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  const errors: string[] = [];
  for (const python of ['python3', '/usr/bin/python3']) {
    const child = spawnSync(python, [script], {
      input: JSON.stringify({ configs, seed: 7, minSeconds: timer.minMs / 1000, reps: timer.reps, clock: timer.clock ?? 'wall' }),
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (child.error) errors.push(`${python} could not be started (${child.error.message})`);
    else if (child.status !== 0) errors.push(`${python} ${script} failed: ${child.stderr.trim().split('\n').pop() ?? ''}`);
    else {
      const parsed = JSON.parse(child.stdout) as { scipy: string; results: ScipyResult[] };
      return { version: parsed.scipy, results: parsed.results };
    }
  }
  return { error: errors.join('; ') };
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
  wasmSpmv: Probe | null;
  /** scipy's µs in each round it ran. */
  scipy: number[];
}

const sameSparsity = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  const quick = options.quick;
  const list = (name: string): number[] | null => {
    const arg = options.args.find((a) => a.startsWith(`${name}=`));
    return arg === undefined ? null : arg.slice(name.length + 1).split(',').map(Number);
  };
  const shapeArg = options.args.find((a) => a.startsWith('shapes='));
  const shapes: [number, number][] = shapeArg !== undefined
    ? shapeArg.slice('shapes='.length).split(',').map((s) => s.split('x').map(Number) as [number, number])
    : quick ? [[300, 784]] : [[300, 784], [100, 300], [10, 100], [1024, 1024]];
  const sparsities = list('sparsities') ?? (quick ? [0, 0.5, 0.9, 0.98] : [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]);
  const batches = list('batches') ?? [1, 64, 256];
  for (const v of [...shapes.flat(), ...batches]) if (!Number.isInteger(v) || v <= 0) throw new Error(`shapes and batches must be positive integers, got ${v}`);
  for (const b of batches) if (b !== 1 && b % 16 !== 0) throw new Error(`batches must be 1 or multiples of 16 (the SIMD panels), got ${b}`);
  for (const s of sparsities) if (!(s >= 0 && s < 1)) throw new Error(`sparsities must lie in [0, 1), got ${s}`);
  const clock = options.args.includes('cpu') ? 'cpu' : 'wall';
  const timer: Timer = quick ? { minMs: 3, reps: 1, clock } : { minMs: 6, reps: 2, clock };
  const roundsArg = options.args.find((a) => a.startsWith('rounds='));
  const rounds = roundsArg === undefined ? 5 : Number(roundsArg.slice('rounds='.length));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds=N needs a positive integer, got ${roundsArg}`);
  const rng = new Rng(2026);
  let scipyNote = '';
  let scipyVersion: string | null = null;

  say(options, `building and verifying ${shapes.length * sparsities.length * batches.length} cases ...`);
  const cells: Cell[] = [];
  const denseProbes = new Map<string, Probe>();
  const wasmDenseProbes = new Map<string, Probe>();
  const instance = instantiateKernels();
  if (instance === null) say(options, 'WebAssembly SIMD is not available here: the wasm columns stay empty');
  const wasm: WasmBench | null = instance === null ? null : { k: instance.kernels, arena: new WasmArena(instance.memory) };
  for (const [nRows, nCols] of shapes) {
    const inputs = new Map<number, Float32Array>(batches.map((b) => [b, randomArray(b * nCols, rng)]));
    const wasmIo = new Map<number, { x: number; y: number; bias: number }>();
    for (const sparsity of sparsities) {
      const w = randomSparseWeight(nRows, nCols, sparsity, rng);
      const csr = csrFromDense(w, nRows, nCols);
      const { indptr, indices, values } = csr;
      const wasmCsr = wasm === null ? null : { ...placeCsr(wasm.arena, csr), sell: placeSell(wasm.arena, sellFromCsr(csr)) };
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
        let wasmSpmv: Probe | null = null;
        if (wasm !== null && wasmCsr !== null) {
          const { k, arena } = wasm;
          if (!wasmIo.has(batch)) wasmIo.set(batch, { x: arena.allocF32(batch === 1 ? x : new Float32Array(xPanels)), y: arena.alloc(4 * batch * nRows), bias: arena.alloc(4 * nRows) });
          const io = wasmIo.get(batch)!;
          const panels = batch / 16;
          const timed = (run: () => void): Probe => probe(() => { run(); consume(arena.f32().subarray(io.y / 4)); });
          const checked = (what: string, run: () => void): Probe => {
            arena.f32().fill(NaN, io.y / 4, io.y / 4 + batch * nRows);
            run();
            check(`${where} wasm ${what}`, readWasmRows(wasm, io.y, nRows, batch), yDense);
            return timed(run);
          };
          const { sell } = wasmCsr;
          wasmSparse = batch === 1
            ? checked('sellMatvec', () => k.sellMatvec(sell.nSlices, sell.slicePtr, sell.rowOffsets, sell.slots, io.bias, 0, io.x, io.y))
            : checked('spmmPanel16', () => {
              for (let p = 0; p < panels; p++) k.spmmPanel16(nRows, wasmCsr.indptr, wasmCsr.panelOffsets, wasmCsr.values, io.bias, 0, io.x + p * 64 * nCols, io.y + p * 64 * nRows);
            });
          if (batch === 1) wasmSpmv = checked('spmv', () => k.spmv(nRows, wasmCsr.indptr, wasmCsr.vectorOffsets, wasmCsr.values, io.bias, 0, io.x, io.y));
          if (!wasmDenseProbes.has(denseKey)) {
            const wAddress = arena.allocF32(w);
            wasmDenseProbes.set(denseKey, batch === 1
              ? checked('denseMatvec', () => k.denseMatvec(nRows, nCols, wAddress, io.bias, 0, io.x, io.y))
              : checked('densePanel16', () => {
                for (let p = 0; p < panels; p++) k.densePanel16(nRows, nCols, wAddress, io.bias, 0, io.x + p * 64 * nCols, io.y + p * 64 * nRows);
              }));
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
          wasmDense, wasmSparse, wasmSpmv, scipy: [],
        });
      }
    }
  }

  // Probes in sweep order: per (shape, batch) the dense kernels, then every sparsity's sparse kernels.
  const probes: Probe[] = [];
  for (const [nRows, nCols] of shapes) {
    for (const batch of batches) {
      const group = cells.filter((c) => c.nRows === nRows && c.nCols === nCols && c.batch === batch);
      probes.push(group[0]!.dense);
      if (group[0]!.wasmDense !== null) probes.push(group[0]!.wasmDense);
      for (const c of group) for (const p of [c.matvec, c.panel, c.layout, c.rowsKernel, c.wasmSparse, c.wasmSpmv]) if (p !== null) probes.push(p);
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
      if (cell !== undefined && r.nnz === cell.nnz) {
        while (cell.scipy.length < round) cell.scipy.push(NaN); // keep rounds aligned if one scipy run failed
        cell.scipy.push(r.us);
      }
    }
  });
  if (scipyNote !== '') say(options, scipyNote);

  const rows = cells.map((c) => toRow(c));
  const breakEven = breakEvens(rows, shapes, batches);

  say(options, 'block-pruned weights, LeNet, loop orders, skip-zeros ...');
  const blocks = blockBenchmark(quick ? [0.9, 0.98] : [0.5, 0.8, 0.9, 0.95, 0.98], quick ? [1, 64] : [1, 64, 256], timer, rounds, rng, wasm);
  const lenet = lenetBenchmark(quick ? [1, 64] : [1, 64, 256], timer, rounds, rng);
  const alternatives = alternativesBenchmark(quick ? [0.9] : [0.5, 0.9, 0.98], timer, rounds, rng);
  const skipZeros = wasm === null ? [] : skipZerosBenchmark(timer, rounds, rng, wasm);
  const costModel = fitCostModel(rows, blocks, alternatives, skipZeros);

  const columns = ['rows', 'cols', 'batch', 'sparsity', 'nnz', 'denseUs', 'sparseUs', 'speedup', 'ideal', 'gflops', 'kernel', 'layoutUs', 'rowsUs', 'scipyUs', 'vsScipy'];
  say(options, formatTable(rows as unknown as Record<string, unknown>[], columns));
  if (wasm !== null) {
    say(options, '\nWebAssembly SIMD backend (src/sparse/backends/wasm-simd), same layers, same rounds (speedup: median [min–max] of rounds):');
    const simdRows = rows.map((r) => ({ ...r, wasmSpeedupRange: range(r.wasmSpeedupMin, r.wasmSpeedupMax), wasmVsScipyRange: range(r.wasmVsScipyMin, r.wasmVsScipyMax) }));
    say(options, formatTable(simdRows, ['rows', 'cols', 'batch', 'sparsity', 'wasmDenseUs', 'wasmSparseUs', 'wasmSpmvUs', 'wasmSpeedup', 'wasmSpeedupRange', 'ideal', 'scipyUs', 'wasmVsScipy', 'wasmVsScipyRange', 'bestSpeedup']));
  }
  say(options, '\nbreak-even sparsity (sparse faster than dense from here on, medians):');
  say(options, formatTable(breakEven, ['rows', 'cols', 'batch', 'breakEvenSparsity', 'interpolated', 'wasmBreakEvenSparsity', 'wasmInterpolated']));
  say(options, '\n4×1 block-pruned weights, 300×784 (µs, medians):');
  say(options, formatTable(blocks.map((b) => ({ ...b, wasmBsrSpeedupRange: range(b.wasmBsrSpeedupMin as number, b.wasmBsrSpeedupMax as number) })),
    ['batch', 'sparsity', 'nnz', 'denseUs', 'csrUs', 'bsrUs', 'bsrVsCsr', 'wasmDenseUs', 'wasmCsrUs', 'wasmBsrUs', 'wasmBsrSpeedup', 'wasmBsrSpeedupRange', 'wasmBsrVsCsr']));
  say(options, '\nLeNet-300-100 (784-300-100-10, ReLU), every layer 95 % sparse, compileInference (µs per predict):');
  say(options, formatTable(lenet, ['batch', 'input', 'denseUs', 'sparseUs', 'speedup', 'kernels', 'wasmDenseUs', 'wasmSparseUs', 'wasmSpeedup', 'wasmKernels', 'bestSpeedup', 'maxRelError']));
  say(options, '\nbatch-64 loop orders of the TypeScript kernels on 300×784 (effective GFLOP/s = 2·nnz·batch/time):');
  say(options, formatTable(alternatives, ['sparsity', 'rowdot1', 'rowdot4', 'panel4', 'panel8', 'panel16']));
  if (skipZeros.length > 0) {
    say(options, '\nbatch 1, inputs with zeros: SIMD skip-zeros scatter vs SELL-4 gather (µs):');
    say(options, formatTable(skipZeros, ['rows', 'cols', 'sparsity', 'nonZeroInputs', 'touched', 'scatterUs', 'gatherUs', 'scatterVsGather']));
  }
  say(options, `\ncost model (ns; fitted on the medians above): ${JSON.stringify(costModel)}`);
  if (scipyVersion !== null) say(options, `scipy ${scipyVersion} (OPENBLAS_NUM_THREADS=1)`);
  return {
    rows, breakEven, blocks, lenet, alternatives, skipZeros, costModel, scipy: scipyVersion ?? scipyNote,
    timing: { ...timer, rounds, rule: 'each probe once per round, rounds interleaved; times: median over rounds; ratios: median of per-round ratios, with …Min/…Max over rounds' },
  };
}

function range(min: number | undefined, max: number | undefined): string {
  return min === undefined || max === undefined || !Number.isFinite(min) ? '' : `${min.toPrecision(3)}–${max.toPrecision(3)}`;
}

/** One result row of the grid from its probes' round times. */
function toRow(c: Cell): Row {
  const candidates: [string, Probe][] = c.batch === 1 ? [['csrMatvec', c.matvec!]] : [['csrMatmulPanel16', c.panel!], ['csrMatmulRows', c.rowsKernel]];
  candidates.sort((a, b) => medianUs(a[1]) - medianUs(b[1]));
  const [kernel, sparse] = candidates[0]!;
  const speedup = ratioSpread(c.dense.times, sparse.times);
  const sparseUs = medianUs(sparse);
  const row: Row = {
    rows: c.nRows, cols: c.nCols, batch: c.batch, sparsity: c.sparsity, nnz: c.nnz,
    denseUs: medianUs(c.dense), sparseUs, speedup: speedup.median, speedupMin: speedup.min, speedupMax: speedup.max, ideal: 1 / (1 - c.sparsity),
    gflops: c.nnz === 0 ? 0 : (2 * c.nnz * c.batch) / (sparseUs * 1e3), kernel,
    layoutUs: medianUs(c.layout), rowsUs: medianUs(c.rowsKernel),
  };
  const hasScipy = c.scipy.some((v) => Number.isFinite(v));
  if (hasScipy) {
    row.scipyUs = median(c.scipy);
    row.vsScipy = ratioSpread(c.scipy, sparse.times).median;
  }
  if (c.wasmDense !== null && c.wasmSparse !== null) {
    const wasmSpeedup: Spread = ratioSpread(c.wasmDense.times, c.wasmSparse.times);
    Object.assign(row, {
      wasmDenseUs: medianUs(c.wasmDense), wasmSparseUs: medianUs(c.wasmSparse),
      wasmSpeedup: wasmSpeedup.median, wasmSpeedupMin: wasmSpeedup.min, wasmSpeedupMax: wasmSpeedup.max,
    });
    if (c.wasmSpmv !== null) row.wasmSpmvUs = medianUs(c.wasmSpmv);
    if (hasScipy) {
      const vs = ratioSpread(c.scipy, c.wasmSparse.times);
      Object.assign(row, { wasmVsScipy: vs.median, wasmVsScipyMin: vs.min, wasmVsScipyMax: vs.max });
    }
    const fastest = (a: Probe, b: Probe): number[] => a.times.map((t, r) => Math.min(t, b.times[r]!));
    row.bestSpeedup = ratioSpread(fastest(c.dense, c.wasmDense), fastest(sparse, c.wasmSparse)).median;
  }
  return row;
}

/**
 * Break-even per backend: the lowest sparsity from which sparse wins at every higher grid point, plus a
 * log-linear interpolation of the speedup between the last losing and the first winning grid point.
 */
function breakEvens(rows: Row[], shapes: [number, number][], batches: number[]): Record<string, unknown>[] {
  const find = (series: Row[], speedup: (r: Row) => number | undefined): { at: number | null; interpolated: number | null } => {
    let first = series.length;
    while (first > 0 && (speedup(series[first - 1]!) ?? 0) > 1) first--;
    const win = series[first];
    const lose = first > 0 ? series[first - 1] : undefined;
    if (win === undefined) return { at: null, interpolated: null };
    if (lose === undefined) return { at: win.sparsity, interpolated: win.sparsity };
    const [a, b] = [Math.log(speedup(lose)!), Math.log(speedup(win)!)];
    return { at: win.sparsity, interpolated: lose.sparsity + (a / (a - b)) * (win.sparsity - lose.sparsity) };
  };
  const out: Record<string, unknown>[] = [];
  for (const [nRows, nCols] of shapes) {
    for (const batch of batches) {
      const series = rows.filter((r) => r.rows === nRows && r.cols === nCols && r.batch === batch).sort((a, b) => a.sparsity - b.sparsity);
      const js = find(series, (r) => r.speedup);
      const simd = find(series, (r) => r.wasmSpeedup);
      out.push({ rows: nRows, cols: nCols, batch, breakEvenSparsity: js.at, interpolated: js.interpolated, wasmBreakEvenSparsity: simd.at, wasmInterpolated: simd.interpolated });
    }
  }
  return out;
}

/** Least squares a·x ≈ y for a few unknowns (normal equations, Gaussian elimination). */
function leastSquares(a: number[][], y: number[]): number[] {
  const n = a[0]!.length;
  const m = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => a.reduce((s, row) => s + row[i]! * row[j]!, 0)), a.reduce((s, row, r) => s + row[i]! * y[r]!, 0)]);
  for (let i = 0; i < n; i++) {
    const pivot = m[i]![i]!;
    for (let j = i; j <= n; j++) m[i]![j]! /= pivot;
    for (let r = 0; r < n; r++) if (r !== i) { const f = m[r]![i]!; for (let j = i; j <= n; j++) m[r]![j]! -= f * m[i]![j]!; }
  }
  return m.map((row) => row[n]!);
}

/**
 * The cost models' constants, fitted on the medians: ns per multiply-add (JS_COST_MODEL in
 * src/sparse/backends/js/cost-model.ts; WASM_COST_MODEL in src/sparse/backends/wasm-simd/cost-model.ts) and, for
 * the SIMD backend, the per-row overhead (intercept of time against nnz on 300×784 at 90–99 %) and the
 * skip-zeros constants (least squares over the skip-zeros points).
 */
function fitCostModel(rows: Row[], blocks: Record<string, unknown>[], alternatives: Record<string, number>[], skipZeros: Record<string, number>[]): Record<string, number> {
  const big = rows.filter((r) => r.rows * r.cols >= 30000);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const csr1 = big.filter((r) => r.batch === 1 && r.sparsity > 0 && r.sparsity <= 0.9);
  const csrB = big.filter((r) => r.batch > 1 && r.sparsity > 0 && r.sparsity <= 0.9);
  // Block weights store every entry of a kept block, so nnz = stored entries.
  const blockNs = (b: Record<string, unknown>, key: string): number => ((b[key] as number) * 1e3) / ((b.batch as number) * (b.nnz as number));
  const fit: Record<string, number> = {
    denseNsSmall: round(median(big.filter((r) => r.batch === 1).map((r) => (r.denseUs * 1e3) / (r.rows * r.cols)))),
    denseNsBatch: round(median(big.filter((r) => r.batch > 1).map((r) => (r.denseUs * 1e3) / (r.batch * r.rows * r.cols)))),
    csrNs1: round(median(csr1.map((r) => (r.sparseUs * 1e3) / r.nnz))),
    csrNs16: round(median(csrB.map((r) => (r.sparseUs * 1e3) / (r.batch * r.nnz)))),
    csrNs4: round(median(alternatives.map((a) => 2 / a.panel4!))),
    csrNs8: round(median(alternatives.map((a) => 2 / a.panel8!))),
    bsrNs1: round(median(blocks.filter((b) => b.batch === 1).map((b) => ((b.bsrUs as number) * 1e3) / (b.nnz as number)))),
    bsrNs16: round(median(blocks.filter((b) => (b.batch as number) > 1).map((b) => ((b.bsrUs as number) * 1e3) / ((b.batch as number) * (b.nnz as number))))),
  };
  if (!big.some((r) => r.wasmDenseUs !== undefined)) return fit;
  // The SIMD backend: time = macNs·width·work + rows·rowNs per call; rowNs from the intercept over 90–99 %.
  const perRow = (batch: number): { mac: number; row: number } => {
    const series = rows.filter((r) => r.rows === 300 && r.cols === 784 && r.batch === batch && r.sparsity >= 0.9 && r.wasmSparseUs !== undefined);
    const calls = batch === 1 ? 1 : batch / 16;
    if (series.length < 2) return { mac: NaN, row: NaN };
    const [mac, intercept] = leastSquares(series.map((r) => [r.batch * r.nnz, 300 * calls]), series.map((r) => r.wasmSparseUs! * 1e3));
    return { mac: mac!, row: intercept! };
  };
  const vector = perRow(1);
  const panel = perRow(64);
  Object.assign(fit, {
    wasmDenseVectorNs: round(median(big.filter((r) => r.batch === 1).map((r) => (r.wasmDenseUs! * 1e3) / (r.rows * r.cols)))),
    wasmDensePanelNs: round(median(big.filter((r) => r.batch > 1).map((r) => (r.wasmDenseUs! * 1e3) / (r.batch * r.rows * r.cols)))),
    wasmCsrVectorNs: round(vector.mac),
    wasmCsrPanelNs: round(panel.mac),
    wasmRowNsVector: round(vector.row),
    wasmRowNsPanel: round(panel.row),
    wasmBsrVectorNs: round(median(blocks.filter((b) => b.batch === 1 && b.wasmBsrUs !== undefined).map((b) => blockNs(b, 'wasmBsrUs')))),
    wasmBsrPanelNs: round(median(blocks.filter((b) => (b.batch as number) > 1 && b.wasmBsrUs !== undefined).map((b) => blockNs(b, 'wasmBsrUs')))),
  });
  if (skipZeros.length >= 3) {
    // The per-row work of the scatter (bias, ReLU) lands in the scan term: both grow with the layer's size.
    const [touchedNs, columnNs, scanNs] = leastSquares(skipZeros.map((s) => [s.touched!, s.nonZeroInputs!, s.cols!]), skipZeros.map((s) => s.scatterUs! * 1e3));
    Object.assign(fit, { wasmSkipTouchedNs: round(touchedNs!), wasmSkipColumnNs: round(columnNs!), wasmSkipScanNs: round(scanNs!) });
  }
  return fit;
}
