/**
 * Where a dense SIMD product's time goes: the loop nest of src/tensor/wasm/gemm.ts replicated here for one
 * product, each kernel call (packB, packA, macroKernel) timed inside it, next to the whole product
 * (simdGemmNN) and the macro-kernel alone on blocks already packed (its best case: everything in cache).
 * Not part of the test run.
 *
 *   npx tsx experiments/gemm-parts-probe.ts [M K N]      (default 256 784 300, the bench gemm shape)
 *
 * Prints µs per product (mean over ~300 ms, 3 rounds) and GFLOP/s.
 */
import { simdGemmNN } from '../src/tensor/wasm/gemm.ts';
import { simdInstance } from '../src/tensor/wasm/instance.ts';

const [m, k, n] = process.argv.length >= 5 ? process.argv.slice(2, 5).map(Number) as [number, number, number] : [256, 784, 300];
const simd = simdInstance()!;
const K = simd.kernels;
const arena = simd.arena;
const A = arena.persistentF32(m * k), B = arena.persistentF32(k * n), C = arena.persistentF32(m * n);
A.forEach((_, i) => (A[i] = Math.sin(i)));
B.forEach((_, i) => (B[i] = Math.cos(i)));
// The blocking of gemm.ts (KC 256, MC 128, NC 512, split evenly).
const even = (total: number, max: number, multiple: number): number => Math.ceil(Math.ceil(total / Math.ceil(total / max)) / multiple) * multiple;
const kb = even(k, 256, 1), mb = even(m, 128, 4), nb = even(n, 512, 8);
if (nb < n) throw new Error('this probe replicates one column block only (N ≤ 512)');
const packedA = arena.persistentF32(mb * kb).byteOffset, packedB = arena.persistentF32(nb * kb).byteOffset, tile = arena.persistentF32(32).byteOffset;
const flops = 2 * m * n * k;

function mean(run: () => void): number {
  for (let i = 0; i < 20; i++) run();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < 300) { run(); calls++; }
  return ((performance.now() - start) * 1000) / calls;
}

for (let round = 1; round <= 3; round++) {
  const whole = mean(() => simdGemmNN(m, n, k, A, B, C));
  const parts = { packB: 0, packA: 0, macro: 0 };
  let products = 0;
  const nest = mean(() => {
    for (let pc = 0; pc < k; pc += kb) {
      const kc = Math.min(kb, k - pc);
      let t = performance.now();
      K.packB(kc, n, B.byteOffset + 4 * pc * n, 4 * n, 4, packedB);
      parts.packB += performance.now() - t;
      for (let ic = 0; ic < m; ic += mb) {
        const mc = Math.min(mb, m - ic);
        t = performance.now();
        K.packA(mc, kc, A.byteOffset + 4 * (ic * k + pc), 4 * k, 4, packedA);
        parts.packA += performance.now() - t;
        t = performance.now();
        K.macroKernel(mc, n, kc, packedA, packedB, C.byteOffset + 4 * ic * n, 4 * n, pc === 0 ? 1 : 0, tile);
        parts.macro += performance.now() - t;
      }
    }
    products++;
  });
  const macroAlone = mean(() => {
    for (let pc = 0; pc < k; pc += kb) for (let ic = 0; ic < m; ic += mb) K.macroKernel(Math.min(mb, m - ic), n, Math.min(kb, k - pc), packedA, packedB, C.byteOffset + 4 * ic * n, 4 * n, pc === 0 ? 1 : 0, tile);
  });
  const per = (ms: number): string => ((ms * 1000) / products).toFixed(0);
  const gflops = (us: number): string => (flops / us / 1000).toFixed(1);
  console.log(`round ${round}: ${m}×${k}·${k}×${n} whole ${whole.toFixed(0)} µs (${gflops(whole)} GFLOP/s); the nest ${nest.toFixed(0)} µs = packB ${per(parts.packB)} + packA ${per(parts.packA)} + macro ${per(parts.macro)}; macro alone on packed blocks ${macroAlone.toFixed(0)} µs (${gflops(macroAlone)} GFLOP/s)`);
}
