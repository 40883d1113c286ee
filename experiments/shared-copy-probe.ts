/**
 * What a training step's batch gather costs when its destination is shared memory: 64 random rows of 784
 * floats from a 60,000-row array (Fashion-MNIST's training set) copied with TypedArray.set into a plain
 * Float32Array, a SharedArrayBuffer, and a shared WebAssembly.Memory (where training keeps its batch when it
 * runs on threads). V8 copies into shared buffers with relaxed atomics, not memcpy. Not part of the test run.
 *
 *   npx tsx experiments/shared-copy-probe.ts
 *
 * Prints the median µs per batch of 7 rounds of 300 ms for each destination.
 */
import { wasmApi } from '../src/wasm/runtime.ts';

const ROWS = 60_000, FEATURES = 784, BATCH = 64;
const source = Float32Array.from({ length: ROWS * FEATURES }, (_, i) => i % 97);
const destinations: [string, Float32Array][] = [
  ['plain Float32Array', new Float32Array(BATCH * FEATURES)],
  ['SharedArrayBuffer', new Float32Array(new SharedArrayBuffer(4 * BATCH * FEATURES))],
  ['shared WebAssembly.Memory', new Float32Array(new (wasmApi()!.Memory)({ initial: 4, maximum: 16, shared: true }).buffer, 0, BATCH * FEATURES)],
];
let seed = 1;
const randomRow = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % ROWS;

function gather(into: Float32Array): void {
  for (let i = 0; i < BATCH; i++) {
    const row = randomRow();
    into.set(source.subarray(row * FEATURES, (row + 1) * FEATURES), i * FEATURES);
  }
}

for (const [name, into] of destinations) {
  for (let warm = 0; warm < 200; warm++) gather(into);
  const rounds: number[] = [];
  for (let round = 0; round < 7; round++) {
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < 300) { gather(into); calls++; }
    rounds.push(((performance.now() - start) * 1000) / calls);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${name}: ${rounds[3]!.toFixed(1)} µs per batch (min–max ${rounds[0]!.toFixed(1)}–${rounds[6]!.toFixed(1)})`);
}
