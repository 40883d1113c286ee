import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { nodeThreadHost } from '../../src/node/threads.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { closeThreads, currentThreads, MAX_THREADS, resolveThreads, setThreadHost, threadPool, withThreads } from '../../src/tensor/threads.ts';
import { MIN_FLOPS_PER_SHARE } from '../../src/tensor/wasm/gemm.ts';
import { simdAdam, simdGemmNN, simdGemmNT, simdGemmTN, simdInstance, simdSgd } from '../../src/tensor/wasm/index.ts';
import { dropCallerWork, hasCallerWork, offerCallerWork, runCallerWork, sharesFor } from '../../src/tensor/wasm/parallel.ts';
import { MIN_ELEMENTS_PER_SHARE, simdAdamAll, simdSgdAll, type UpdateOperands } from '../../src/tensor/wasm/simd-kernels.ts';
import { referenceMatmul } from '../reference/dense.ts';

/*
 * The SIMD training kernels split over threads give exactly the bits of one thread: the GEMM in its three
 * forms (cut by rows or by columns, on awkward shapes, accumulating or not, with row ranges, resident or
 * copied operands) and the optimizer updates (masked or not, lengths that are not multiples of 4). Each
 * case is big enough to be split (above MIN_FLOPS_PER_SHARE / MIN_ELEMENTS_PER_SHARE per share); smaller
 * ones run on one thread by design, which the last test checks through the workers' chunk count.
 */

const simd = simdInstance()!;
const KERNELS = { NN: simdGemmNN, NT: simdGemmNT, TN: simdGemmTN };

beforeAll(() => setThreadHost(nodeThreadHost));
afterAll(() => setThreadHost(null));

function filled(length: number, rng: Rng, resident: boolean): Float32Array {
  const x = resident ? simd.arena.persistentF32(length) : new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = rng.normal();
  return x;
}

/** C for each thread count, from the same operands and the same initial C. */
function products(form: 'NN' | 'NT' | 'TN', m: number, n: number, k: number, options: { accumulate?: boolean; resident?: boolean; rows?: [number, number] } = {}): Float32Array[] {
  const mark = simd.arena.mark();
  try {
    const rng = new Rng(m * 7919 + n * 31 + k);
    const resident = options.resident ?? false;
    const a = filled(m * k, rng, resident), b = filled(k * n, rng, resident), initial = filled(m * n, rng, false);
    return [1, 2, 3].map((threads) => {
      const c = resident ? simd.arena.persistentF32(m * n) : new Float32Array(m * n);
      c.set(initial);
      const range = options.rows === undefined ? {} : { rowStart: options.rows[0], rowEnd: options.rows[1] };
      withThreads(threads, () => KERNELS[form](m, n, k, a, b, c, options.accumulate ?? false, range));
      return Float32Array.from(c);
    });
  } finally {
    simd.arena.release(mark);
  }
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

describe('SIMD GEMM on threads', () => {
  const shapes: [number, number, number][] = [
    [64, 300, 784], // the LeNet forward: cut by columns
    [300, 784, 64], // its weight gradient: cut by columns
    [1031, 1, 1031], // a column: cut by rows
    [1, 1031, 1031], // a row: cut by columns
    [131, 17, 509], // primes, cut by rows
    [17, 509, 131], // primes, cut by columns
    [257, 129, 33], // one past the tiles and the cache blocks
  ];
  for (const form of ['NN', 'NT', 'TN'] as const) {
    it(`${form}: 2 and 3 threads give the bits of one (awkward shapes, overwrite and accumulate)`, () => {
      for (const [m, n, k] of shapes) {
        expect(2 * m * n * k).toBeGreaterThanOrEqual(2 * MIN_FLOPS_PER_SHARE); // split, not run on one thread
        for (const accumulate of [false, true]) {
          const [one, two, three] = products(form, m, n, k, { accumulate });
          expect(sameBits(one!, two!), `${form} ${m}×${n}×${k} accumulate=${accumulate}, 2 threads`).toBe(true);
          expect(sameBits(one!, three!), `${form} ${m}×${n}×${k} accumulate=${accumulate}, 3 threads`).toBe(true);
        }
      }
    });
  }

  it('matches the float64 oracle when split, also inside a row range and on resident operands', () => {
    const [m, n, k] = [96, 200, 301];
    for (const resident of [false, true]) {
      const [one, two] = products('NN', m, n, k, { resident, rows: [5, 90] });
      expect(sameBits(one!, two!)).toBe(true);
    }
    const rng = new Rng(4);
    const a = filled(m * k, rng, false), b = filled(k * n, rng, false), c = new Float32Array(m * n);
    withThreads(3, () => simdGemmNN(m, n, k, a, b, c));
    const expected = referenceMatmul(m, n, k, a, b);
    let worst = 0;
    for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-3);
  });

  it('puts the workers to work on a big product, and not on a small one', () => {
    const pool = withThreads(2, () => threadPool(2))!;
    const before = pool.workerChunks;
    for (let i = 0; i < 10; i++) products('NT', 8, 16, 16); // 4 kFLOP: one thread
    expect(pool.workerChunks).toBe(before);
    for (let i = 0; i < 30 && pool.workerChunks === before; i++) products('NT', 64, 300, 784);
    expect(pool.workerChunks).toBeGreaterThan(before);
  });
});

describe('SIMD optimizer updates on threads', () => {
  const n = 2 * MIN_ELEMENTS_PER_SHARE * 3 + 7; // three shares and a tail that is not a multiple of 4

  function run(update: (w: Float32Array, g: Float32Array, s1: Float32Array, s2: Float32Array, mask: Uint8Array | null, step: number) => void, masked: boolean): Float32Array[][] {
    return [1, 2, 3].map((threads) => {
      const rng = new Rng(11);
      const [w, g, s1, s2] = [0, 1, 2, 3].map(() => filled(n, rng, false));
      s2!.forEach((v, i) => (s2![i] = Math.abs(v)));
      const mask = masked ? Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)) : null;
      withThreads(threads, () => {
        for (let step = 1; step <= 3; step++) update(w!, g!, s1!, s2!, mask, step);
      });
      return [w!, g!, s1!, s2!];
    });
  }

  for (const masked of [false, true]) {
    it(`Adam and SGD give the bits of one thread on 2 and 3 threads${masked ? ' (masked)' : ''}`, () => {
      const adam = run((w, g, m, v, mask, step) => simdAdam(simd, n, w, g, m, v, mask, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, step }), masked);
      const sgd = run((w, g, velocity, _unused, mask) => simdSgd(simd, n, w, g, velocity, mask, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }), masked);
      for (const results of [adam, sgd]) {
        for (const other of [results[1]!, results[2]!]) other.forEach((x, i) => expect(sameBits(x, results[0]![i]!)).toBe(true));
      }
    });
  }
});

describe('SIMD optimizer updates over many parameters at once', () => {
  // Sizes that are not multiples of 4, one too small to split, two that make chunks straddle parameters.
  const sizes = [10, 7, 2 * MIN_ELEMENTS_PER_SHARE + 3, 3, MIN_ELEMENTS_PER_SHARE + 1, 1];

  function operands(seed: number, masked: boolean, stateBuffers: number): UpdateOperands[] {
    const rng = new Rng(seed);
    return sizes.map((n, k) => {
      const [w, g, ...state] = Array.from({ length: 2 + stateBuffers }, () => filled(n, rng, false));
      if (stateBuffers === 2) state[1]!.forEach((x, i) => (state[1]![i] = Math.abs(x)));
      const mask = masked && k % 2 === 0 ? Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)) : null;
      return { w: w!, g: g!, state, mask };
    });
  }

  for (const masked of [false, true]) {
    it(`give the bits of one call per parameter on one thread, on 1, 2 and 3 threads${masked ? ' (masked)' : ''}`, () => {
      const adamStep = (step: number) => ({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, step });
      const sgdStep = { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
      const reference = { adam: operands(3, masked, 2), sgd: operands(4, masked, 1) };
      for (let step = 1; step <= 2; step++) {
        for (const p of reference.adam) simdAdam(simd, p.w.length, p.w, p.g, p.state[0]!, p.state[1]!, p.mask, adamStep(step));
        for (const p of reference.sgd) simdSgd(simd, p.w.length, p.w, p.g, p.state[0]!, p.mask, sgdStep);
      }
      for (const threads of [1, 2, 3]) {
        const all = { adam: operands(3, masked, 2), sgd: operands(4, masked, 1) };
        withThreads(threads, () => {
          for (let step = 1; step <= 2; step++) {
            simdAdamAll(simd, all.adam, adamStep(step));
            simdSgdAll(simd, all.sgd, sgdStep);
          }
        });
        for (const kind of ['adam', 'sgd'] as const) {
          all[kind].forEach((p, k) => [p.w, p.g, ...p.state].forEach((x, i) => expect(sameBits(x, [reference[kind][k]!.w, reference[kind][k]!.g, ...reference[kind][k]!.state][i]!)).toBe(true)));
        }
      }
    });
  }
});

describe("the caller's own work during a split call", () => {
  const n = 8 * MIN_ELEMENTS_PER_SHARE + 5; // 8 shares with caller work, 2 without
  const adam = (threads: number, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, step: number): void =>
    withThreads(threads, () => simdAdam(simd, n, w, g, m, v, null, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step }));

  function state(): Float32Array[] {
    const rng = new Rng(5);
    const [w, g, m, v] = [0, 1, 2, 3].map(() => filled(n, rng, false));
    v!.forEach((x, i) => (v![i] = Math.abs(x)));
    return [w!, g!, m!, v!];
  }

  it('is done once, inside the next split call, which gives the bits of one thread', () => {
    const reference = state();
    for (let step = 1; step <= 3; step++) adam(1, reference[0]!, reference[1]!, reference[2]!, reference[3]!, step);
    for (const threads of [2, 3]) {
      const [w, g, m, v] = state();
      for (let step = 1; step <= 3; step++) {
        let done = 0;
        offerCallerWork(() => done++);
        adam(threads, w!, g!, m!, v!, step);
        expect(done).toBe(1);
        expect(hasCallerWork()).toBe(false);
      }
      [w, g, m, v].forEach((x, i) => expect(sameBits(x!, reference[i]!)).toBe(true));
    }
  });

  it('cuts that call finer, so the workers can take over what the caller would have done', () => {
    withThreads(2, () => {
      expect(sharesFor(simd, n, MIN_ELEMENTS_PER_SHARE)).toBe(2);
      offerCallerWork(() => {});
      expect(sharesFor(simd, n, MIN_ELEMENTS_PER_SHARE)).toBe(8);
      expect(sharesFor(simd, 3 * MIN_ELEMENTS_PER_SHARE, MIN_ELEMENTS_PER_SHARE)).toBe(3); // never below the minimum share
      dropCallerWork();
    });
  });

  it('waits for a split call: a call on one thread leaves it, runCallerWork does it once, dropCallerWork forgets it', () => {
    const [w, g, m, v] = state();
    let done = 0;
    offerCallerWork(() => done++);
    adam(1, w!, g!, m!, v!, 1);
    expect([done, hasCallerWork()]).toEqual([0, true]);
    runCallerWork();
    runCallerWork();
    expect([done, hasCallerWork()]).toEqual([1, false]);
    offerCallerWork(() => done++);
    offerCallerWork(() => (done += 10)); // the first offer is done before the second is taken
    expect(done).toBe(2);
    dropCallerWork();
    runCallerWork();
    adam(2, w!, g!, m!, v!, 2);
    expect([done, hasCallerWork()]).toEqual([2, false]);
  });

  it('ends the split call with the error its caller work throws, and the pool keeps working', () => {
    const [w, g, m, v] = state();
    const boom = new Error('gather failed');
    offerCallerWork(() => {
      throw boom;
    });
    expect(() => adam(2, w!, g!, m!, v!, 1)).toThrow(boom);
    expect(hasCallerWork()).toBe(false);
    const reference = state();
    adam(1, reference[0]!, reference[1]!, reference[2]!, reference[3]!, 1);
    const again = state();
    adam(2, again[0]!, again[1]!, again[2]!, again[3]!, 1);
    again.forEach((x, i) => expect(sameBits(x, reference[i]!)).toBe(true));
  });
});

describe('thread counts', () => {
  it('accepts 1…MAX_THREADS and refuses anything else with a ConfigError', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, MAX_THREADS + 1, '2' as unknown as number]) {
      expect(() => resolveThreads(bad)).toThrow(ConfigError);
      expect(() => withThreads(bad, () => 0)).toThrow(ConfigError);
    }
    expect(resolveThreads(1)).toEqual({ threads: 1 });
    expect(resolveThreads(2)).toEqual({ threads: 2 });
    expect(currentThreads()).toBe(1);
    expect(withThreads(3, () => withThreads(2, () => currentThreads()))).toBe(2);
    expect(currentThreads()).toBe(1);
  });

  it('falls back to one thread, saying why, without a host or without shared memory (a page that is not cross-origin isolated)', () => {
    setThreadHost(null);
    try {
      expect(resolveThreads(2).threads).toBe(1);
      expect(resolveThreads(2).note).toMatch(/no thread host .* setThreadHost\(nodeThreadHost\)/);
      expect(threadPool(2)).toBeNull();
      // Without a pool the split product runs its chunks on the caller: same bits.
      const [one, two] = products('NT', 64, 300, 784);
      expect(sameBits(one!, two!)).toBe(true);
    } finally {
      setThreadHost(nodeThreadHost);
    }
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      expect(resolveThreads(4)).toMatchObject({ threads: 1, note: expect.stringMatching(/cross-origin isolated: COOP\/COEP headers/) });
    } finally {
      delete g.crossOriginIsolated;
    }
    expect(resolveThreads(4).threads).toBe(4);
  });

  it('grows the pool for more threads and replaces it after closeThreads', () => {
    const two = threadPool(2)!;
    expect(threadPool(2)).toBe(two);
    const three = threadPool(3)!;
    expect(three).not.toBe(two);
    expect(two.closed).toBe(true);
    expect(three.threads).toBe(3);
    expect(threadPool(2)).toBe(three); // big enough
    closeThreads();
    expect(three.closed).toBe(true);
    expect(threadPool(2)).not.toBe(three);
  });
});
