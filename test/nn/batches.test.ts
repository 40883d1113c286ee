import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/tensor/backend.ts';
import { BatchPrefetcher, gatherBatch } from '../../src/nn/batches.ts';
import { Adam, fit, mlp } from '../../src/nn/index.ts';
import { nodeThreadHost } from '../../src/node/threads.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { setThreadHost } from '../../src/tensor/threads.ts';
import { hasCallerWork, runCallerWork } from '../../src/tensor/wasm/parallel.ts';
import { toyData } from '../prune/helpers.ts';

/*
 * The training loop's batches (src/nn/batches.ts): two buffers in turn, the next batch gathered ahead of
 * time on threads. Whether a batch was gathered ahead or on demand, it holds exactly the rows of the epoch's
 * order; a run sees every sample once per epoch, in the same batches on every backend and thread count; and
 * a run that ends early leaves no gather behind to land in freed memory.
 */

beforeAll(() => setThreadHost(nodeThreadHost));
afterAll(() => setThreadHost(null));

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

describe('BatchPrefetcher', () => {
  const data = toyData(10, 3, 4, 1); // batches of 4, 4 and 2

  for (const ahead of [false, true]) {
    it(`gives each batch the rows of the epoch's order, ${ahead ? 'gathered ahead' : 'gathered on demand'}, epoch after epoch`, () => {
      const order = Int32Array.from({ length: 10 }, (_, i) => i);
      const batches = new BatchPrefetcher(data, order, 4, (length) => new Float32Array(length));
      const rng = new Rng(3);
      for (let epoch = 0; epoch < 3; epoch++) {
        batches.startEpoch((o) => rng.shuffle(o));
        for (let b = 0; b < 3; b++) {
          const want = gatherBatch(data, order, 4 * b, Math.min(4 * b + 4, 10));
          // A batch gathered ahead is not gathered again: taken while the data set is scribbled over, it is intact.
          const saved = data.x.slice();
          if (ahead && b > 0) data.x.fill(NaN);
          const got = batches.batch(b);
          data.x.set(saved);
          expect(got.x.shape).toEqual(want.x.shape);
          expect(same(got.x.data, want.x.data) && same(got.y, want.y)).toBe(true);
          if (ahead) {
            batches.prefetch(b + 1);
            expect(hasCallerWork()).toBe(b + 1 < 3); // never past the epoch's last batch
            runCallerWork(); // what the next split call would do
          }
        }
      }
      batches.close();
    });
  }

  it('forgets a gather offered but not done when the run ends or the epoch changes', () => {
    const order = Int32Array.from({ length: 10 }, (_, i) => i);
    const batches = new BatchPrefetcher(data, order, 4, (length) => new Float32Array(length));
    batches.startEpoch(() => {});
    batches.batch(0);
    batches.prefetch(1);
    batches.startEpoch((o) => o.reverse());
    expect(hasCallerWork()).toBe(false);
    expect(same(batches.batch(1).y, gatherBatch(data, order, 4, 8).y)).toBe(true); // the new order's batch 1
    batches.prefetch(2);
    batches.close();
    expect(hasCallerWork()).toBe(false);
  });
});

describe('the batches of a training run', () => {
  // 784 → 96: the first layer's Adam update (75 264 weights) is split on 2 threads, so the gather runs in it.
  const data = toyData(200, 784, 10, 5);
  const rowOf = new Map<number, number>();
  for (let i = 0; i < data.count; i++) rowOf.set(data.x[i * data.features]!, i);

  /** The sample indices of every step's batch, read back from the inputs the hooks see. */
  function batchesSeen(backend: Backend, threads: number): number[][] {
    const seen: number[][] = [];
    const model = mlp([784, 96, 10], { seed: 2 });
    const hooks = [{
      afterStep: (ctx: { inputs: { data: ArrayLike<number>; shape: readonly number[] } }) => {
        const rows = ctx.inputs.shape[0]!;
        seen.push(Array.from({ length: rows }, (_, r) => rowOf.get(ctx.inputs.data[r * data.features]!) ?? -1));
      },
    }];
    fit(model, data, { epochs: 2, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 9, backend, threads, hooks });
    return seen;
  }

  it('sees every sample once per epoch, in the same batches on js, wasm-simd and 2 threads', () => {
    const reference = batchesSeen('js', 1);
    expect(reference.length).toBe(8); // 4 batches (64, 64, 64, 8) per epoch
    for (const epoch of [reference.slice(0, 4), reference.slice(4)]) expect(epoch.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(reference.slice(0, 4)).not.toEqual(reference.slice(4)); // reshuffled
    expect(batchesSeen('wasm-simd', 1)).toEqual(reference);
    expect(batchesSeen('wasm-simd', 2)).toEqual(reference);
  });

  it('leaves no gather behind when a run ends with an error', () => {
    const model = mlp([784, 96, 10], { seed: 2 });
    const failing = [{ afterStep: (ctx: { step: number }) => { if (ctx.step === 2) throw new Error('hook failed'); } }];
    for (const threads of [1, 2]) {
      expect(() => fit(model, data, { epochs: 1, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 9, backend: 'wasm-simd', threads, hooks: failing })).toThrow('hook failed');
      expect(hasCallerWork()).toBe(false);
    }
  });
});
