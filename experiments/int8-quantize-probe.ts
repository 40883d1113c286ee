/**
 * The int8 backend's activation quantizers on a private and on a shared WebAssembly memory (the memory of a
 * model that runs on threads): CPU time per call, median of 7 rounds (experiments/cpu-timer.ts). The record
 * behind PEELED in src/sparse/backends/wasm-int8/kernels-quantize.ts; not part of the test run.
 *
 *   npx tsx experiments/int8-quantize-probe.ts [features]
 */
import { WasmArena } from '../src/sparse/backends/wasm-simd/arena.ts';
import { instantiateInt8Kernels, instantiateSharedInt8Kernels } from '../src/sparse/backends/wasm-int8/kernels.ts';
import { cpuMicros } from './cpu-timer.ts';

const n = Number(process.argv[2] ?? 784);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, instance] of [['private memory', instantiateInt8Kernels()], ['shared memory', instantiateSharedInt8Kernels(2)]] as const) {
  if (instance === null) { console.log(`${name}: not available on this engine`); continue; }
  const arena = new WasmArena(instance.memory);
  const x = arena.alloc(64 * (n + 16));
  const f32 = arena.f32();
  for (let i = 0; i < 16 * n; i++) f32[x / 4 + i] = Math.sin(i);
  const words = arena.alloc(32 * (n + 16)), pairs = arena.alloc(64 * (n + 16)), codes = arena.alloc(n + 64), scales = arena.alloc(64);
  const k = instance.kernels;
  const time = (call: () => void): number => median(Array.from({ length: 7 }, () => cpuMicros(call, 30)));
  console.log(`${name}: quantizePanelWords16 ${time(() => k.quantizePanelWords16(n, x, words, scales)).toFixed(2)} µs a panel, ` +
    `quantizePanelPairs16 ${time(() => k.quantizePanelPairs16(n, x, pairs, scales)).toFixed(2)}, quantizeVector ${time(() => k.quantizeVector(n, x, codes, scales)).toFixed(3)} (${n} features)`);
}
