// The WebAssembly SIMD backend on threads: a model compiled with `threads` splits a batch's 16-sample
// panels between the threads and gives exactly the bits of one thread at every batch size (vectors only,
// padded panels, many panels), through sigmoid and tanh layers (applied between jobs), for non-finite
// inputs, and while its memory grows; batch 1 never splits; `threads` that cannot run fall back to one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { nodeThreadHost } from '../../../src/node/threads.ts';
import { compileInference, wasmSimdSupported } from '../../../src/sparse/index.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { setThreadHost, threadPool } from '../../../src/tensor/threads.ts';
import { forwardReference, makeLayers, maxRelativeError, randomVector } from '../../reference/sparse.ts';
import { bits, expectThreadsGiveBitsOfOne, type ThreadTestNetwork } from '../../support/threads-bits.ts';

// Growing, then shrinking again (cached plans whose programs must follow the grown scratch region).
const BATCHES = [1, 3, 4, 16, 17, 20, 33, 64, 100, 256, 20, 1, 64];

beforeAll(() => setThreadHost(nodeThreadHost));
afterAll(() => setThreadHost(null));

describe.runIf(wasmSimdSupported())('wasm-simd inference on threads', () => {
  const rng = new Rng(5);
  // Big enough that a few panels are worth a thread (MIN_NS_PER_SHARE by the cost model).
  const networks: ThreadTestNetwork[] = [
    { name: 'LeNet-300-100 dense', sizes: [784, 300, 100, 10], densities: [1, 1, 1], activations: ['relu', 'relu', 'none'] },
    { name: 'LeNet-300-100 90 % sparse', sizes: [784, 300, 100, 10], densities: [0.1, 0.1, 0.2], activations: ['relu', 'relu', 'none'] },
    { name: 'tanh and sigmoid layers, the last one too', sizes: [500, 300, 120, 7], densities: [1, 0.4, 1], activations: ['tanh', 'sigmoid', 'sigmoid'] },
  ];
  for (const net of networks) {
    it(`${net.name}: 2 and 3 threads give the bits of one at every batch size`, () => {
      expectThreadsGiveBitsOfOne('wasm-simd', net, BATCHES, rng, ({ layers, x, batch, two }) => {
        expect(maxRelativeError(two, forwardReference(layers, x, batch))).toBeLessThan(1e-5);
      });
    });
  }

  it('4×1 BSR panels (block-pruned weights) on 2 and 3 threads give the bits of one', () => {
    const layers = makeLayers([784, 300, 100, 10], [1, 1, 1], ['relu', 'relu', 'none'], rng);
    // Zero whole 4×1 blocks (4 consecutive rows of one column) so the 4×1 BSR form is kept and chosen.
    for (const layer of layers.slice(0, 2)) {
      for (let r0 = 0; r0 < layer.outFeatures; r0 += 4) {
        for (let c = 0; c < layer.inFeatures; c++) {
          if (rng.uniform() < 0.9) for (let r = r0; r < Math.min(r0 + 4, layer.outFeatures); r++) layer.weight[r * layer.inFeatures + c] = 0;
        }
      }
    }
    const models = [1, 2, 3].map((threads) => compileInference(layers, { backend: 'wasm-simd', strategy: 'bsr4x1', threads }));
    expect(models[0]!.kernels(64).slice(0, 2)).toEqual(['bsr4x1', 'bsr4x1']);
    for (const batch of [64, 100, 256]) {
      const x = randomVector(batch * 784, rng).map((v) => Math.max(0, v));
      const [one, two, three] = models.map((m) => m.predict(x, batch).slice());
      expect(bits(two!).equals(bits(one!)), `batch ${batch}, 2 threads`).toBe(true);
      expect(bits(three!).equals(bits(one!)), `batch ${batch}, 3 threads`).toBe(true);
      expect(maxRelativeError(one!, forwardReference(layers, x, batch))).toBeLessThan(1e-5);
    }
  });

  it('puts the workers to work at batch 64, never at batch 1, and gives NaN rows for non-finite inputs as one thread does', () => {
    const layers = makeLayers([784, 300, 100, 10], [1, 1, 1], ['relu', 'relu', 'none'], rng);
    const one = compileInference(layers, { backend: 'wasm-simd' });
    const two = compileInference(layers, { backend: 'wasm-simd', threads: 2 });
    const pool = threadPool(2)!;
    const x1 = randomVector(784, rng);
    let before = pool.workerChunks;
    for (let i = 0; i < 20; i++) two.predict(x1, 1);
    expect(pool.workerChunks).toBe(before);
    const x = randomVector(64 * 784, rng);
    x[5 * 784 + 3] = Number.NaN;
    x[40 * 784] = Number.POSITIVE_INFINITY;
    before = pool.workerChunks;
    for (let i = 0; i < 30 && pool.workerChunks === before; i++) expect(bits(two.predict(x, 64)).equals(bits(one.predict(x, 64)))).toBe(true);
    expect(pool.workerChunks).toBeGreaterThan(before);
    const logits = two.predict(x, 64);
    expect(Number.isNaN(logits[5 * 10])).toBe(true);
    expect(Number.isNaN(logits[40 * 10 + 9])).toBe(true);
    expect(Number.isFinite(logits[6 * 10])).toBe(true);
    expect(Array.from(two.predictClasses(x, 64))).toEqual(Array.from(one.predictClasses(x, 64)));
  });

  it('flags non-finite inputs that no weight reads, in the panels each thread probes and in the vectors', () => {
    // The first layer stores no weights at all, so a NaN input cannot reach the logits through the kernels:
    // only the input probe (run inside each thread's panels, and on the vectors after them) can flag it.
    const layers = makeLayers([784, 30, 10], [0, 1], ['relu', 'none'], rng);
    const two = compileInference(layers, { backend: 'wasm-simd', threads: 2 });
    for (const batch of [64, 67]) { // 4 panels; 4 panels and 3 vectors
      const x = randomVector(batch * 784, rng);
      const bad = [0, 17, 63, batch - 1];
      for (const s of bad) x[s * 784 + 100] = s % 2 === 0 ? Number.NaN : Number.NEGATIVE_INFINITY;
      const logits = two.predict(x, batch);
      for (let s = 0; s < batch; s++) expect(Number.isNaN(logits[s * 10]), `sample ${s} of ${batch}`).toBe(bad.includes(s));
    }
  });

  it('checks threads, ignores them on the js backend, and falls back to one thread without shared memory', () => {
    const layers = makeLayers([30, 20, 5], [1, 1], ['relu', 'none'], rng);
    for (const bad of [0, -1, 1.5, 65]) expect(() => compileInference(layers, { backend: 'wasm-simd', threads: bad })).toThrow(ConfigError);
    expect(compileInference(layers, { backend: 'js', threads: 2 }).threads).toBe(1);
    expect(compileInference(layers, { backend: 'wasm-simd' }).threads).toBe(1);
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false; // a browser page that is not cross-origin isolated
    try {
      expect(compileInference(layers, { backend: 'wasm-simd', threads: 2 }).threads).toBe(1);
    } finally {
      delete g.crossOriginIsolated;
    }
    const big = makeLayers([784, 300, 10], [1, 1], ['relu', 'none'], rng); // big enough to be split
    const threaded = compileInference(big, { backend: 'wasm-simd', threads: 2 });
    const reference = compileInference(big, { backend: 'wasm-simd' });
    const x = randomVector(64 * 784, rng);
    setThreadHost(null); // no way to start workers any more
    try {
      expect(compileInference(layers, { backend: 'wasm-simd', threads: 2 }).threads).toBe(1);
      // A model compiled for threads runs its chunks on the caller: the same calls, the same bits.
      expect(bits(threaded.predict(x, 64)).equals(bits(reference.predict(x, 64)))).toBe(true);
    } finally {
      setThreadHost(nodeThreadHost);
    }
  });
});
