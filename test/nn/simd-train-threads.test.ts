import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { modelToRecord } from '../../src/io/model-adapter.ts';
import { serializeModel } from '../../src/io/model-file.ts';
import { Adam, fit, mlp, SGD } from '../../src/nn/index.ts';
import { nodeThreadHost } from '../../src/node/threads.ts';
import { runPruning } from '../../src/prune/index.ts';
import { withBackend } from '../../src/tensor/backend.ts';
import { setThreadHost, threadPool, withThreads } from '../../src/tensor/threads.ts';
import { createSimdInstance, withSimdInstance } from '../../src/tensor/wasm/index.ts';
import { toyData } from '../prune/helpers.ts';

/*
 * Training on threads: with the same seed and backend, 1, 2 and 3 threads give byte-identical model files
 * (plain training, pruning, SGD and Adam), the history says how many threads ran, and a thread count that
 * cannot run falls back to one with a note. The layers are wide enough (784 → 96 at batch 64, 9.6 MFLOP per
 * forward product) for the products and the first layer's Adam update to be split.
 */

const data = toyData(640, 784, 10, 3);

beforeAll(() => setThreadHost(nodeThreadHost));
afterAll(() => setThreadHost(null));

function trainBytes(threads: number, optimizer: 'adam' | 'sgd' = 'adam'): { bytes: Buffer; threads: number } {
  const model = mlp([784, 96, 48, 10], { seed: 7 });
  const opt = optimizer === 'adam' ? new Adam(model.parameters(), { lr: 1e-3 }) : new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const history = fit(model, data, { epochs: 2, batchSize: 64, optimizer: opt, seed: 3, backend: 'wasm-simd', threads, validation: data });
  return { bytes: Buffer.from(serializeModel(modelToRecord(model))), threads: history.threads };
}

describe('training on threads', () => {
  for (const optimizer of ['adam', 'sgd'] as const) {
    it(`gives byte-identical model files on 1, 2 and 3 threads (${optimizer})`, () => {
      const [one, two, three] = [1, 2, 3].map((threads) => trainBytes(threads, optimizer));
      expect([one!.threads, two!.threads, three!.threads]).toEqual([1, 2, 3]);
      expect(two!.bytes.equals(one!.bytes)).toBe(true);
      expect(three!.bytes.equals(one!.bytes)).toBe(true);
    });
  }

  it('really runs on the workers', () => {
    const pool = threadPool(2)!;
    const before = pool.workerChunks;
    trainBytes(2);
    expect(pool.workerChunks).toBeGreaterThan(before);
  });

  it('prunes to byte-identical models on 1 and 2 threads (threads from the withThreads scope)', () => {
    const prune = (threads: number): Buffer => {
      const model = mlp([784, 96, 10], { seed: 1 });
      const result = withBackend('wasm-simd', () => withThreads(threads, () => runPruning(model, { train: data }, {
        method: 'gradual', criterion: 'taylor', scope: 'global', granularity: { kind: 'weight' }, sparsity: 0.8, epochs: 2, batchSize: 64, lr: 1e-3, seed: 0,
      })));
      return Buffer.from(serializeModel(modelToRecord(result.model)));
    };
    expect(prune(2).equals(prune(1))).toBe(true);
  });

  it('falls back to one thread with a note on the js backend and without a shared memory; refuses bad counts', () => {
    const model = mlp([784, 16, 10], { seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const js = fit(model, data, { epochs: 1, batchSize: 320, optimizer, seed: 0, backend: 'js', threads: 2 });
    expect(js).toMatchObject({ backend: 'js', threads: 1, threadsNote: expect.stringMatching(/wasm-simd kernels only/) });
    const copying = createSimdInstance({ shared: false })!;
    const unshared = withSimdInstance(copying, () => fit(model, data, { epochs: 1, batchSize: 320, optimizer, seed: 0, backend: 'wasm-simd', threads: 2 }));
    expect(unshared).toMatchObject({ threads: 1, threadsNote: expect.stringMatching(/not shared/) });
    expect(fit(model, data, { epochs: 1, batchSize: 320, optimizer, seed: 0, backend: 'wasm-simd' }).threads).toBe(1); // the library default
    expect(withThreads(2, () => fit(model, data, { epochs: 1, batchSize: 320, optimizer, seed: 0, backend: 'wasm-simd' })).threads).toBe(2);
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      expect(() => fit(model, data, { epochs: 1, batchSize: 320, optimizer, seed: 0, threads: bad })).toThrow(ConfigError);
    }
  });
});
