/**
 * int8 against float32 on the WebAssembly SIMD kernels (issue 14 targets), as interleaved rounds: in every
 * round each probe is timed once, in a fixed order, and a ratio is the median over rounds of float time / int8
 * time, with its min–max (bench/rounds.ts). Clock: this process's CPU time (single-threaded kernels).
 *
 *   tsx bench/run.ts int8 [--quick] [--json] [rounds=7]
 *
 * Rows (W is 300×784, LeNet-300-100's first layer, random normal weights; inputs random, like a ReLU layer's):
 *   dense kernel   64 samples = 4 panels: densePanel16 (float) vs denseInt8Panel16 (int8), kernels only, and
 *                  with the int8 side's activation quantization (quantizePanelPairs16) included
 *   csr kernel     90 % sparse, 4 panels: spmmPanel16 vs csrPairsPanel16 (+ quantizePanelWords16)
 *   layer          the same layer compiled (compileInference: transposes, quantization, kernel), batch 64 and 1,
 *                  90 % sparse and dense
 *   lenet          LeNet-300-100 at 95 % sparsity (random weights), batch 1 and 64: 'wasm-simd' vs 'wasm-int8'
 *
 * Targets: dense kernel int8 ≥ 1.8× float; CSR at 90 %, batch 64 ≥ 1.3×; batch 1 no slower (ratio ≥ 1).
 */
import { Rng } from '../src/tensor/rng.ts';
import { compileInference, csrFromDense, type InferenceLayer } from '../src/sparse/index.ts';
import { WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateKernels } from '../src/sparse/backends/wasm-simd/kernels.ts';
import { instantiateInt8Kernels } from '../src/sparse/backends/wasm-int8/kernels.ts';
import { placeDensePairs, placeInt8Layer } from '../src/sparse/backends/wasm-int8/weights.ts';
import { formatTable, say, type BenchOptions } from './harness.ts';
import { measureRounds, medianUs, probe, ratioSpread, type Probe, type Timer } from './rounds.ts';

const ROWS = 300;
const COLS = 784;

function weights(density: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: ROWS * COLS }, () => (rng.uniform() < density ? rng.normal() * 0.05 : 0));
}

/** Float and int8 kernel probes on one weight matrix, 4 panels (64 samples). */
function kernelProbes(w: Float32Array, kind: 'dense' | 'csr', rng: Rng): { float: Probe; int8: Probe; int8WithQuantize: Probe } {
  const f = instantiateKernels()!;
  const fa = new WasmArena(f.memory);
  const i = instantiateInt8Kernels()!;
  const ia = new WasmArena(i.memory);
  const csr = csrFromDense(w, ROWS, COLS);
  const x = Float32Array.from({ length: 64 * COLS }, () => Math.max(0, rng.normal()));
  // Float side: panels of 16 samples (feature j of sample t at j·16 + t), W dense or CSR.
  const panels = [0, 1, 2, 3].map((p) => fa.allocF32(Array.from({ length: 16 * COLS }, (_, at) => x[(16 * p + (at % 16)) * COLS + Math.floor(at / 16)]!)));
  const outF = fa.alloc(64 * ROWS);
  const bias = fa.alloc(4 * ROWS);
  const dense = fa.allocF32(w);
  const indptr = fa.allocI32(csr.indptr), offsets = fa.allocI32(csr.indices.map((c) => c * 64)), values = fa.allocF32(csr.values);
  const float = kind === 'dense'
    ? () => { for (const p of panels) f.kernels.densePanel16(ROWS, COLS, dense, bias, 1, p, outF); }
    : () => { for (const p of panels) f.kernels.spmmPanel16(ROWS, indptr, offsets, values, bias, 1, p, outF); };
  // int8 side: the same panels, quantized once for the kernels-only probe and in every call for the other.
  const layer = placeInt8Layer(ia, { inFeatures: COLS, outFeatures: ROWS, activation: 'relu', bias: null, csr, masked: w }, 0);
  placeDensePairs(ia, layer);
  const floatPanels = panels.map((p) => ia.allocF32(fa.f32().subarray(p / 4, p / 4 + 16 * COLS)));
  const codes = floatPanels.map(() => ia.alloc(32 * (COLS + 16)));
  const scales = floatPanels.map(() => ia.alloc(64));
  const outI = ia.alloc(64 * ROWS);
  const k = i.kernels;
  const quantize = (): void => floatPanels.forEach((p, n) => (kind === 'dense' ? k.quantizePanelPairs16(COLS, p, codes[n]!, scales[n]!) : k.quantizePanelWords16(COLS, p, codes[n]!, scales[n]!)));
  quantize();
  const run = (): void => {
    for (let n = 0; n < 4; n++) {
      if (kind === 'dense') k.denseInt8Panel16(ROWS, COLS / 2, layer.densePairs, layer.scales, layer.bias, 1, codes[n]!, scales[n]!, outI);
      else k.csrPairsPanel16(ROWS, layer.pairPtr, layer.pairOffsets, layer.pairWeights, layer.scales, layer.bias, 1, codes[n]!, scales[n]!, outI);
    }
  };
  return { float: probe(float), int8: probe(run), int8WithQuantize: probe(() => { quantize(); run(); }) };
}
/** A compiled model's predict at one batch size, as a probe. */
function modelProbe(layers: InferenceLayer[], backend: 'wasm-simd' | 'wasm-int8', batch: number, rng: Rng): Probe {
  const model = compileInference(layers, { backend, batch });
  const x = Float32Array.from({ length: batch * layers[0]!.inFeatures }, () => Math.max(0, rng.normal()));
  return probe(() => void model.predict(x, batch));
}

function lenet(sparsity: number, rng: Rng): InferenceLayer[] {
  const sizes = [784, 300, 100, 10];
  return [0, 1, 2].map((l) => ({
    weight: Float32Array.from({ length: sizes[l]! * sizes[l + 1]! }, () => (rng.uniform() < sparsity ? 0 : rng.normal() * Math.sqrt(2 / sizes[l]!))),
    bias: Float32Array.from({ length: sizes[l + 1]! }, () => rng.normal() * 0.01),
    inFeatures: sizes[l]!,
    outFeatures: sizes[l + 1]!,
    activation: l < 2 ? 'relu' as const : 'none' as const,
  }));
}

export async function run(options: BenchOptions): Promise<{ rows: Record<string, unknown>[] }> {
  const roundsArg = options.args.find((a) => a.startsWith('rounds='));
  const rounds = roundsArg === undefined ? (options.quick ? 3 : 7) : Number(roundsArg.slice(7));
  const timer: Timer = { minMs: options.quick ? 20 : 60, reps: 3, clock: 'cpu' };
  const rng = new Rng(14);
  const denseW = weights(1, rng);
  const sparseW = weights(0.1, rng);
  const denseKernels = kernelProbes(denseW, 'dense', rng);
  const csrKernels = kernelProbes(sparseW, 'csr', rng);
  const layer = (w: Float32Array): InferenceLayer[] => [{ weight: w, bias: new Float32Array(ROWS), inFeatures: COLS, outFeatures: ROWS, activation: 'relu' }];
  const pairs: { name: string; target: number | null; float: Probe; int8: Probe }[] = [
    { name: 'dense kernel 64×784·(300×784)ᵀ', target: 1.8, float: denseKernels.float, int8: denseKernels.int8 },
    { name: 'dense kernel + activation quantization', target: null, float: denseKernels.float, int8: denseKernels.int8WithQuantize },
    { name: 'CSR kernel 90 %, batch 64', target: 1.3, float: csrKernels.float, int8: csrKernels.int8 },
    { name: 'CSR kernel 90 %, batch 64 + quantization', target: null, float: csrKernels.float, int8: csrKernels.int8WithQuantize },
  ];
  for (const [label, w] of [['dense', denseW], ['90 %', sparseW]] as const) {
    for (const batch of [64, 1]) {
      pairs.push({ name: `layer 300×784 ${label}, batch ${batch} (predict)`, target: batch === 1 && label === '90 %' ? 1 : null, float: modelProbe(layer(w), 'wasm-simd', batch, rng), int8: modelProbe(layer(w), 'wasm-int8', batch, rng) });
    }
  }
  const net = lenet(0.95, rng);
  for (const batch of [1, 64]) pairs.push({ name: `LeNet-300-100 95 %, batch ${batch} (predict)`, target: batch === 1 ? 1 : null, float: modelProbe(net, 'wasm-simd', batch, rng), int8: modelProbe(net, 'wasm-int8', batch, rng) });

  const probes = [...new Set(pairs.flatMap((p) => [p.float, p.int8]))];
  say(options, `${pairs.length} comparisons, ${rounds} interleaved rounds ...`);
  measureRounds(probes, rounds, timer, (round) => say(options, `round ${round + 1}/${rounds} done`));
  const rows = pairs.map((p) => {
    const ratio = ratioSpread(p.float.times, p.int8.times);
    return {
      case: p.name, floatUs: +medianUs(p.float).toFixed(2), int8Us: +medianUs(p.int8).toFixed(2),
      speedup: +ratio.median.toFixed(2), min: +ratio.min.toFixed(2), max: +ratio.max.toFixed(2),
      target: p.target === null ? '' : `≥ ${p.target}×`, met: p.target === null ? '' : ratio.median >= p.target ? 'yes' : 'no',
    };
  });
  say(options, formatTable(rows, ['case', 'floatUs', 'int8Us', 'speedup', 'min', 'max', 'target', 'met']));
  return { rows };
}
