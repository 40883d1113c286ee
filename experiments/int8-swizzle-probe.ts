/**
 * Batch-1 sparse products on one 300×784 layer (random masks, ReLU, random inputs), all in one process,
 * interleaved rounds timed by CPU time (experiments/cpu-timer.ts), median of 7: the float32 SELL-4 kernel of
 * the wasm-simd backend against the int8 backend's two batch-1 kernels, each int8 call including the
 * activation quantization (quantizeVector) it needs. The record behind VECTOR_CSR_NS
 * (src/sparse/backends/wasm-int8/cost-model.ts) and the swizzle kernel's header; not part of the test run.
 *
 *   npx tsx experiments/int8-swizzle-probe.ts [rows] [cols]
 *
 * Prints, per sparsity, the three times, the swizzle kernel's speed over float SELL-4, the slot counts (and
 * what windows fixed at multiples of 16 would need) and the share of swizzle lanes that hold an entry; it
 * checks that both int8 kernels give the same bits.
 */
import { csrFromDense } from '../src/sparse/index.ts';
import { placeSell, WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { sellFromCsr, SELL_SLOT_BYTES } from '../src/sparse/backends/wasm-simd/sell.ts';
import { instantiateInt8Kernels } from '../src/sparse/backends/wasm-int8/kernels.ts';
import { SWIZZLE_SLOT_BYTES, swizzleFromCsr } from '../src/sparse/backends/wasm-int8/swizzle.ts';
import { placeInt8Layer, placeVectorCsr } from '../src/sparse/backends/wasm-int8/weights.ts';
import { Rng } from '../src/tensor/index.ts';
import { cpuMicros } from './cpu-timer.ts';
import { randomArray, randomSparseWeight } from '../bench/sparse-sections.ts';

const rows = Number(process.argv[2] ?? 300), cols = Number(process.argv[3] ?? 784);
const rng = new Rng(1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const sparsity of [0.5, 0.8, 0.9, 0.95, 0.98, 0.99]) {
  const w = randomSparseWeight(rows, cols, sparsity, rng);
  const csr = csrFromDense(w, rows, cols);
  const bias = randomArray(rows, rng);
  const x = randomArray(cols, rng);

  const int8 = instantiateInt8Kernels()!;
  const k = int8.kernels;
  const arena = new WasmArena(int8.memory);
  const layer = placeInt8Layer(arena, { inFeatures: cols, outFeatures: rows, csr, bias, activation: 'relu', masked: w }, 0);
  const swizzle = placeVectorCsr(arena, layer, 'swizzle');
  layer.vector = null;
  const sell = placeVectorCsr(arena, layer, 'sell');
  if (swizzle.kernel !== 'swizzle' || sell.kernel !== 'sell') throw new Error('unexpected forms');
  const input = arena.alloc(4 * (cols + 16));
  arena.f32().set(x, input / 4);
  const codes = arena.alloc(cols + 64), codesF32 = arena.alloc(4 * (cols + 64)), scale = arena.alloc(64);
  const ySell = arena.alloc(4 * rows), ySwizzle = arena.alloc(4 * rows);
  const runSell = (): void => {
    k.quantizeVector(cols, input, codes, scale);
    k.codesToF32(cols, codes, codesF32);
    k.sellInt8Matvec(sell.sell.nSlices, sell.sell.slicePtr, sell.sell.rowOffsets, sell.sell.slots, layer.scales, layer.bias, 1, codesF32, scale, ySell);
  };
  const runSwizzle = (): void => {
    k.quantizeVector(cols, input, codes, scale);
    k.swizzleInt8Matvec(swizzle.nSlices, swizzle.slicePtr, swizzle.slots, swizzle.sliceScales, swizzle.sliceBias, swizzle.rows, 1, codes, scale, ySwizzle);
  };
  runSell();
  runSwizzle();
  const y = arena.f32();
  for (let r = 0; r < rows; r++) if (!Object.is(y[ySell / 4 + r], y[ySwizzle / 4 + r])) throw new Error(`row ${r}: the int8 kernels differ`);

  const float = instantiateKernels()!;
  const floatArena = new WasmArena(float.memory);
  const floatSell = sellFromCsr(csr);
  const placed = placeSell(floatArena, floatSell);
  const floatBias = floatArena.allocF32(bias), floatInput = floatArena.allocF32(x), floatOut = floatArena.alloc(4 * rows);
  const runFloat = (): void => float.kernels.sellMatvec(placed.nSlices, placed.slicePtr, placed.rowOffsets, placed.slots, floatBias, 1, floatInput, floatOut);

  const times = { float: [] as number[], sell: [] as number[], swizzle: [] as number[] };
  for (let round = 0; round < 7; round++) {
    times.float.push(cpuMicros(runFloat, 30));
    times.sell.push(cpuMicros(runSell, 30));
    times.swizzle.push(cpuMicros(runSwizzle, 30));
  }
  const [f, s, z] = [median(times.float), median(times.sell), median(times.swizzle)];
  const swizzleSlots = arena.i32()[swizzle.slicePtr / 4 + swizzle.nSlices]! / SWIZZLE_SLOT_BYTES;
  // What windows fixed at multiples of 16 would need: per slice and block, its fullest row's ⌈entries/2⌉ slots.
  const form = swizzleFromCsr(csr, layer.int8.codes);
  let fixedSlots = 0;
  for (let slice = 0; slice < form.nSlices; slice++) {
    const sliceRows = Array.from(new Set(form.rows.subarray(8 * slice, 8 * slice + 8)));
    for (let block = 0; block < cols; block += 16) {
      fixedSlots += Math.max(...sliceRows.map((r) => Math.ceil(Array.from(csr.indices.subarray(csr.indptr[r]!, csr.indptr[r + 1]!)).filter((c) => c >= block && c < block + 16).length / 2)));
    }
  }
  console.log(`${(100 * sparsity).toFixed(0)} %: float SELL-4 ${f.toFixed(2)} µs, int8 SELL-4 ${s.toFixed(2)} µs, swizzle ${z.toFixed(2)} µs ` +
    `(${(f / z).toFixed(2)}× float); slots: SELL-4 ${floatSell.slots.length / SELL_SLOT_BYTES}, swizzle ${swizzleSlots} (fixed windows: ${fixedSlots}) ` +
    `(${(100 * csr.nnz / (16 * swizzleSlots)).toFixed(0)} % of lanes used)`);
}

const int8 = instantiateInt8Kernels()!;
const arena = new WasmArena(int8.memory);
const input = arena.allocF32(randomArray(cols + 16, rng));
const codes = arena.alloc(cols + 64), scale = arena.alloc(64);
const quantize = median([0, 1, 2, 3, 4].map(() => cpuMicros(() => int8.kernels.quantizeVector(cols, input, codes, scale), 30)));
console.log(`quantizeVector of ${cols} inputs: ${quantize.toFixed(3)} µs`);
