// The int8 backend on threads: a model compiled with `threads` splits a batch's 16-sample panels between the
// threads and gives exactly the bits of one thread at every batch size (vectors only, a padded panel plus a
// vector, many panels), dense and sparse, through sigmoid and tanh layers (applied between jobs), for
// non-finite inputs, and while its memory grows; batch 1 and work too small to pay never split; `threads`
// that cannot run fall back to one. (The float backend's counterpart: wasm-simd-threads.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeThreadHost } from '../../../src/node/threads.ts';
import { compileInference } from '../../../src/sparse/index.ts';
import { int8KernelsSupported } from '../../../src/sparse/backends/wasm-int8/kernels.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { setThreadHost, threadPool } from '../../../src/tensor/threads.ts';
import { forwardReference, makeLayers, randomVector } from '../../reference/sparse.ts';
import { bits, expectThreadsGiveBitsOfOne, type ThreadTestNetwork } from '../../support/threads-bits.ts';

// Growing, then shrinking again (cached plans whose programs must follow the grown scratch region).
const BATCHES = [1, 17, 64, 100, 256, 17, 1, 64];

beforeAll(() => setThreadHost(nodeThreadHost));
afterAll(() => setThreadHost(null));

/** Every output within 5 % of the largest |output| of the float64 network (8-bit rounding, as wasm-int8-model.test.ts). */
function expectNearReference(y: Float32Array, expected: Float64Array, what: string): void {
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < y.length; i++) {
    if (!(Math.abs(y[i]! - expected[i]!) <= 0.05 * scale)) expect.fail(`${what}, output ${i}: ${y[i]} vs ${expected[i]}`);
  }
}

describe.runIf(int8KernelsSupported())("the 'wasm-int8' backend on threads", () => {
  const rng = new Rng(14);
  // Big enough that a few panels are worth a thread (MIN_NS_PER_SHARE by the cost model).
  const networks: ThreadTestNetwork[] = [
    { name: 'LeNet-300-100 dense', sizes: [784, 300, 100, 10], densities: [1, 1, 1], activations: ['relu', 'relu', 'none'] },
    { name: 'LeNet-300-100 90 % sparse', sizes: [784, 300, 100, 10], densities: [0.1, 0.1, 0.2], activations: ['relu', 'relu', 'none'] },
    { name: 'a sigmoid layer in the middle, tanh at the end, odd widths', sizes: [501, 299, 121, 7], densities: [1, 0.1, 1], activations: ['relu', 'sigmoid', 'tanh'] },
  ];
  for (const net of networks) {
    it(`${net.name}: 2 and 3 threads give the bits of one at every batch size`, () => {
      expectThreadsGiveBitsOfOne('wasm-int8', net, BATCHES, rng, ({ layers, x, batch, models, two }) => {
        // Right, not only equal: near the float64 network where the outputs are logits (a saturated tanh
        // magnifies 8-bit rounding past any fixed tolerance), and each sample alone, on the vector kernels,
        // gives the bits it has inside the batch's panels (as wasm-int8-model.test.ts holds on one thread).
        if (net.activations[net.activations.length - 1] === 'none') expectNearReference(two, forwardReference(layers, x, batch), `batch ${batch}`);
        const [nIn, nOut] = [net.sizes[0]!, net.sizes[net.sizes.length - 1]!];
        for (const s of [0, batch - 1]) expect(bits(models[1]!.predict(x.slice(s * nIn, (s + 1) * nIn), 1)).equals(bits(two.subarray(s * nOut, (s + 1) * nOut))), `batch ${batch}, sample ${s}`).toBe(true);
      });
    });
  }

  it('puts the workers to work at batch 64, never at batch 1 nor on a net too small to pay, and gives NaN rows for non-finite inputs as one thread does', () => {
    const layers = makeLayers([784, 300, 100, 10], [1, 0.1, 1], ['relu', 'relu', 'none'], rng);
    const one = compileInference(layers, { backend: 'wasm-int8' });
    const two = compileInference(layers, { backend: 'wasm-int8', threads: 2 });
    const pool = threadPool(2)!;
    const x1 = randomVector(784, rng);
    let before = pool.workerChunks;
    for (let i = 0; i < 20; i++) expect(bits(two.predict(x1, 1)).equals(bits(one.predict(x1, 1)))).toBe(true);
    expect(pool.workerChunks).toBe(before);
    // A few thousand multiply-adds per panel: far below MIN_NS_PER_SHARE, so never split.
    const tiny = compileInference(makeLayers([30, 20, 5], [1, 1], ['relu', 'none'], rng), { backend: 'wasm-int8', threads: 2 });
    const xTiny = randomVector(256 * 30, rng);
    for (let i = 0; i < 20; i++) tiny.predict(xTiny, 256);
    expect(pool.workerChunks).toBe(before);
    const x = randomVector(64 * 784, rng);
    x[5 * 784 + 3] = Number.NaN;
    x[40 * 784] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 200 && pool.workerChunks === before; i++) expect(bits(two.predict(x, 64)).equals(bits(one.predict(x, 64)))).toBe(true);
    expect(pool.workerChunks).toBeGreaterThan(before);
    const logits = two.predict(x, 64);
    for (let s = 0; s < 64; s++) expect(Number.isNaN(logits[s * 10 + s % 10]), `sample ${s}`).toBe(s === 5 || s === 40);
    expect(Array.from(two.predictClasses(x, 64))).toEqual(Array.from(one.predictClasses(x, 64)));
  });

  it('flags non-finite inputs that no weight reads, in the panels each thread probes and in the vectors', () => {
    // The first layer stores no weights at all, so a NaN input cannot reach the logits through the kernels:
    // only the input probe (run inside each thread's panels, and on the vectors after them) can flag it.
    // The second layer is wide enough (~60 µs a panel by the cost model) that 4 panels are split.
    const layers = makeLayers([784, 600, 300], [0, 1], ['relu', 'none'], rng);
    const two = compileInference(layers, { backend: 'wasm-int8', threads: 2 });
    const pool = threadPool(2)!;
    const before = pool.workerChunks;
    for (const batch of [64, 67]) { // 4 panels; 4 panels and 3 vectors
      const x = randomVector(batch * 784, rng);
      const bad = [0, 17, 63, batch - 1];
      for (const s of bad) x[s * 784 + 100] = s % 2 === 0 ? Number.NaN : Number.NEGATIVE_INFINITY;
      // Until a worker has taken part (a loaded machine may leave every chunk to the caller for a while).
      for (let i = 0; i < 200 && (i < 3 || pool.workerChunks === before); i++) {
        const logits = two.predict(x, batch);
        for (let s = 0; s < batch; s++) expect(Number.isNaN(logits[s * 300]), `sample ${s} of ${batch}`).toBe(bad.includes(s));
      }
    }
    expect(pool.workerChunks).toBeGreaterThan(before);
  });

  it('falls back to one thread without shared memory or a thread host, and says so in model.threads', () => {
    const layers = makeLayers([784, 300, 10], [1, 1], ['relu', 'none'], rng);
    expect(compileInference(layers, { backend: 'wasm-int8' }).threads).toBe(1);
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false; // a browser page that is not cross-origin isolated
    try {
      expect(compileInference(layers, { backend: 'wasm-int8', threads: 2 }).threads).toBe(1);
    } finally {
      delete g.crossOriginIsolated;
    }
    const threaded = compileInference(layers, { backend: 'wasm-int8', threads: 2 });
    const reference = compileInference(layers, { backend: 'wasm-int8' });
    const x = randomVector(64 * 784, rng);
    setThreadHost(null); // no way to start workers any more
    try {
      expect(compileInference(layers, { backend: 'wasm-int8', threads: 2 }).threads).toBe(1);
      // A model compiled for threads runs its chunks on the caller: the same calls, the same bits.
      expect(bits(threaded.predict(x, 64)).equals(bits(reference.predict(x, 64)))).toBe(true);
    } finally {
      setThreadHost(nodeThreadHost);
    }
  });
});
