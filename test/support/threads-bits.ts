// The check both inference backends' thread tests make: a network compiled for 1, 2 and 3 threads gives the
// same bits at every batch size of a sequence (growing, then shrinking: cached plans must follow a grown
// scratch region). `alsoCheck` adds each backend's own test of the 2-thread result (near a float64 reference…).
import { expect } from 'vitest';
import { compileInference, type Activation, type InferenceLayer, type InferenceModel } from '../../src/sparse/index.ts';
import type { Rng } from '../../src/tensor/index.ts';
import { makeLayers, randomVector } from '../reference/sparse.ts';

/** A test network: layer widths, the density of each weight matrix, each layer's activation. */
export interface ThreadTestNetwork {
  readonly name: string;
  readonly sizes: number[];
  readonly densities: number[];
  readonly activations: Activation[];
}

/** The raw bytes of a float32 array, to compare bit for bit (NaN payloads and −0 included). */
export function bits(x: Float32Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

/**
 * Compiles `net` for `backend` on 1, 2 and 3 threads and checks, at every batch size, that 2 and 3 threads
 * give the bits of one; `alsoCheck` then sees the layers, the input, the batch, the models and the 2-thread output.
 */
export function expectThreadsGiveBitsOfOne(
  backend: 'wasm-simd' | 'wasm-int8', net: ThreadTestNetwork, batches: readonly number[], rng: Rng,
  alsoCheck: (c: { layers: InferenceLayer[]; x: Float32Array; batch: number; models: InferenceModel[]; two: Float32Array }) => void = () => {},
): void {
  const layers = makeLayers(net.sizes, net.densities, net.activations, rng);
  const models: InferenceModel[] = [1, 2, 3].map((threads) => compileInference(layers, { backend, threads }));
  expect(models.map((m) => m.threads)).toEqual([1, 2, 3]);
  for (const batch of batches) {
    const x = randomVector(batch * net.sizes[0]!, rng).map((v) => Math.max(0, v)); // some zeros, like images
    const [one, two, three] = models.map((m) => m.predict(x, batch).slice());
    expect(bits(two!).equals(bits(one!)), `batch ${batch}, 2 threads`).toBe(true);
    expect(bits(three!).equals(bits(one!)), `batch ${batch}, 3 threads`).toBe(true);
    alsoCheck({ layers, x, batch, models, two: two! });
  }
}
