import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadError } from '../../src/errors.ts';
import { nodeThreadHost } from '../../src/node/threads.ts';
import { trainingModuleBytes } from '../../src/tensor/wasm/instance.ts';
import { exportedFunctions, KernelProgram, runChunk } from '../../src/wasm/kernel-program.ts';
import { wasmApi, type WasmMemory } from '../../src/wasm/runtime.ts';
import type { ThreadHost } from '../../src/wasm/thread-host.ts';
import { WorkerPool, type RunOptions, type ThreadContext } from '../../src/wasm/thread-pool.ts';

/*
 * The thread pool on worker_threads, with the training module's `add` kernel (out = a + b over n floats) as
 * the work: every chunk must run exactly once whichever thread claims it, and every way a worker can fail —
 * a kernel trap, an exit in the middle of a job, a silent stop — must end the job with a ThreadError instead
 * of a hang. Failures are injected through the ThreadHost seam: a host that prepends code to the worker
 * program, wrapping WebAssembly.Instance in the worker only (the caller's kernels stay real).
 */

const PAGES = 64;
const api = wasmApi()!; // typed here: the project's lib settings declare no WebAssembly globals
const module = new api.Module(trainingModuleBytes({ shared: true, maxPages: 1024 }));
const { names, index } = exportedFunctions(api.Module.exports(module));
const pools: WorkerPool[] = [];

afterAll(() => {
  for (const pool of pools) pool.close();
});

/** A host whose workers run `inject` first: it may wrap the worker's kernels (`wrap(name, real)` returns the replacement). */
function injectingHost(inject: string): ThreadHost {
  return { name: 'test-workers', callerMayWait: true, spawn: (program) => nodeThreadHost.spawn(`${inject}\n${program}`) };
}

/** Worker-side code that replaces the `add` kernel of every instance by `body` (JS with real, n, a, b, out, memory in scope). */
function wrapAdd(body: string): string {
  return `const RealInstance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const instance = new RealInstance(module, imports);
  const memory = imports.env.memory;
  const exports = Object.assign({}, instance.exports);
  const real = instance.exports.add;
  exports.add = (n, a, b, out) => { ${body} };
  return { exports };
};`;
}

/**
 * Runs `job` until it throws (returns the error) or 3 s pass (returns null). The caller claims chunks too, so
 * a job may end before a worker wakes; on a loaded machine (CI runs test files side by side) that can happen
 * many times in a row, so these tests wait for the worker by time, not by a count of jobs.
 */
function firstErrorOnceTheWorkerTakesPart(job: () => void): unknown {
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    try {
      job();
    } catch (error) {
      return error;
    }
  }
  return null;
}

function makePool(host: ThreadHost = nodeThreadHost, workers = 2, options = {}): WorkerPool {
  const pool = new WorkerPool(host, workers, options);
  pools.push(pool);
  return pool;
}

/** A shared memory with the module instantiated on it for the caller, attached to `pool`. */
function context(pool: WorkerPool): { ctx: ThreadContext; f32: () => Float32Array; memory: WasmMemory } {
  const memory = new api.Memory({ initial: PAGES, maximum: 1024, shared: true });
  const instance = new api.Instance(module, { env: { memory } });
  const functions = names.map((name) => instance.exports[name] as (...args: number[]) => void);
  return { ctx: pool.attach(module, memory, names, functions), f32: () => new Float32Array(memory.buffer), memory };
}

/**
 * A job of `chunks` chunks: chunk c adds b to a in place over its own `per` floats (a at 4096, b after it),
 * so a chunk run twice or never shows in the result. Returns the program's address and the arrays' offsets.
 */
function addJob(memory: WasmMemory, chunks: number, per: number, n = per): { program: number; a: number; b: number } {
  const a = 4096, b = a + 4 * chunks * per;
  const p = new KernelProgram(index);
  for (let c = 0; c < chunks; c++) {
    p.beginChunk();
    p.call('add', [n, a + 4 * c * per, b + 4 * c * per, a + 4 * c * per]);
  }
  const program = b + 4 * chunks * per;
  p.write(new Float64Array(memory.buffer), program / 8);
  return { program, a, b };
}

describe('KernelProgram', () => {
  it('replays each chunk as the recorded calls, with every i32 and f32 argument exactly', () => {
    const p = new KernelProgram(new Map([['f', 0], ['g', 1]]));
    p.beginChunk();
    p.call('f', [1, -2, 2 ** 31 - 1]);
    p.call('g', [0.1, Math.fround(0.1), -0]);
    p.beginChunk();
    p.beginChunk();
    p.call('f', []);
    const words = new Float64Array(3 + p.length);
    p.write(words, 3);
    const seen: unknown[][] = [];
    const functions = [(...args: number[]) => seen.push(['f', ...args]), (...args: number[]) => seen.push(['g', ...args])];
    for (let c = 0; c < p.chunks; c++) {
      runChunk(functions, words, 3, c);
      seen.push(['end of chunk', c]);
    }
    expect(seen).toEqual([['f', 1, -2, 2 ** 31 - 1], ['g', 0.1, Math.fround(0.1), -0], ['end of chunk', 0], ['end of chunk', 1], ['f'], ['end of chunk', 2]]);
    expect(Object.is((seen[1] as number[])[3], -0)).toBe(true);
  });

  it('refuses a function the module does not export, and a call before the first chunk', () => {
    const p = new KernelProgram(new Map([['f', 0]]));
    expect(() => p.call('f', [])).toThrow(/beginChunk/);
    p.beginChunk();
    expect(() => p.call('nope', [])).toThrow(/no function 'nope'/);
  });
});

/** Sets a job's operands: a[i] = i and b[i] = `b` (as addJob lays them out). */
function setOperands(x: Float32Array, job: { a: number; b: number }, count: number, b: number): void {
  for (let i = 0; i < count; i++) {
    x[job.a / 4 + i] = i;
    x[job.b / 4 + i] = b;
  }
}

/** How many of a job's sums are not a[i] = i + `added`. */
function wrongSums(x: Float32Array, job: { a: number }, count: number, added: number): number {
  let wrong = 0;
  for (let i = 0; i < count; i++) if (x[job.a / 4 + i] !== i + added) wrong++;
  return wrong;
}

describe('WorkerPool on worker_threads', () => {
  it('runs every chunk exactly once, the workers taking part', () => {
    const pool = makePool();
    expect(pool.threads).toBe(3);
    const { ctx, f32, memory } = context(pool);
    const chunks = 200, per = 2048;
    const job = addJob(memory, chunks, per);
    const x = f32();
    for (let round = 0; round < 20 && pool.workerChunks === 0; round++) {
      setOperands(x, job, chunks * per, 0.5);
      pool.run(ctx, job.program, chunks);
      expect(wrongSums(x, job, chunks * per, 0.5)).toBe(0);
    }
    expect(pool.workerChunks).toBeGreaterThan(0);
  });

  it('with a feed, runs no chunk before its feed returned, and every chunk once', () => {
    // The feed writes chunk c's b operand only then: a chunk that ran early would add stale values.
    const pool = makePool();
    const { ctx, f32, memory } = context(pool);
    const chunks = 64, per = 4096;
    const job = addJob(memory, chunks, per);
    const x = f32();
    for (let round = 0; round < 10; round++) {
      setOperands(x, job, chunks * per, -1); // stale: a chunk run before its feed gives i − 1
      const fed: number[] = [];
      pool.run(ctx, job.program, chunks, {
        feed: (chunk) => {
          fed.push(chunk);
          x.fill(round + 0.5, job.b / 4 + chunk * per, job.b / 4 + (chunk + 1) * per);
        },
      });
      expect(fed).toEqual(Array.from({ length: chunks }, (_, c) => c));
      expect(wrongSums(x, job, chunks * per, round + 0.5)).toBe(0);
    }
  });

  const throwing: [string, (boom: Error) => RunOptions][] = [
    ['feed', (boom) => ({ feed: (chunk) => { if (chunk === 5) throw boom; } })],
    ['caller work', (boom) => ({ callerWork: () => { throw boom; } })],
  ];
  for (const [what, options] of throwing) {
    it(`ends a job whose ${what} throws with that error, never a hang, and stays usable`, () => {
      const pool = makePool();
      const { ctx, f32, memory } = context(pool);
      const chunks = 16, per = 1024;
      const job = addJob(memory, chunks, per);
      const boom = new Error(`${what} failed`);
      expect(() => pool.run(ctx, job.program, chunks, options(boom))).toThrow(boom);
      expect(pool.closed).toBe(false);
      const x = f32();
      setOperands(x, job, chunks * per, 2);
      pool.run(ctx, job.program, chunks);
      expect(wrongSums(x, job, chunks * per, 2)).toBe(0);
    });
  }

  it("does the caller's own work once per job, after the feeds, while the workers run chunks", () => {
    const pool = makePool();
    const { ctx, f32, memory } = context(pool);
    const chunks = 64, per = 1024;
    const job = addJob(memory, chunks, per);
    const x = f32();
    let workerChunksDuringWork = 0;
    for (let round = 0; round < 10; round++) {
      setOperands(x, job, chunks * per, round);
      const events: string[] = [];
      pool.run(ctx, job.program, chunks, {
        feed: (chunk) => events.push(`feed ${chunk}`),
        callerWork: () => {
          events.push('work');
          // Long enough for a worker to start: the chunks it runs meanwhile are the overlap this buys.
          const before = pool.workerChunks;
          const until = performance.now() + 50;
          while (performance.now() < until && pool.workerChunks === before) { /* wait for a worker */ }
          workerChunksDuringWork += pool.workerChunks - before;
        },
      });
      expect(events).toEqual([...Array.from({ length: chunks }, (_, c) => `feed ${c}`), 'work']);
      expect(wrongSums(x, job, chunks * per, round)).toBe(0);
    }
    expect(workerChunksDuringWork).toBeGreaterThan(0);
  });


  it('reports a kernel trap in a worker as a ThreadError naming it, and keeps running jobs', () => {
    // The worker's add reads far outside the memory: a WebAssembly trap (RuntimeError) in the worker only.
    const pool = makePool(injectingHost(wrapAdd('real(n, 0x7fff0000, b, out);')));
    const { ctx, memory } = context(pool);
    const { program } = addJob(memory, 64, 4096);
    let error: unknown = null;
    for (let round = 0; round < 50 && error === null; round++) {
      try {
        pool.run(ctx, program, 64);
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).code).toBe('E_THREAD');
    expect((error as Error).message).toMatch(/test-workers: worker [12] of 2 failed during a job: RuntimeError: memory access out of bounds/);
    expect(pool.closed).toBe(false); // a chunk that threw was still counted: the pool is consistent
  });

  it('ends a job with a ThreadError when a worker exits in the middle of it, and stops the pool', () => {
    const pool = makePool(injectingHost(wrapAdd('process.exit(3);')), 1);
    const { ctx, memory } = context(pool);
    const { program } = addJob(memory, 64, 4096);
    const started = Date.now();
    const error = firstErrorOnceTheWorkerTakesPart(() => pool.run(ctx, program, 64));
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as Error).message).toMatch(/worker 1 of 1 stopped during a job/);
    expect(Date.now() - started).toBeLessThan(5000); // the exit hook told the caller: no stall limit needed
    expect(pool.closed).toBe(true);
    expect(() => pool.run(ctx, program, 64)).toThrow(/the thread pool is closed/);
  });

  it('ends a job with a ThreadError when a worker stops without a word (stall limit)', () => {
    // No exit hook (as on a platform without one), then the worker stops mid-chunk.
    const pool = makePool(injectingHost(`host.atExit = () => {};\n${wrapAdd('process.exit(3);')}`), 1, { stallMs: 300 });
    const { ctx, memory } = context(pool);
    const { program } = addJob(memory, 64, 4096);
    const error = firstErrorOnceTheWorkerTakesPart(() => pool.run(ctx, program, 64));
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as Error).message).toMatch(/worker 1 did not finish its part of a job within/);
    expect(pool.closed).toBe(true);
  });

  it("rethrows the caller's own trap once the workers are done, and stays usable", () => {
    const pool = makePool();
    const { ctx, memory } = context(pool);
    const p = new KernelProgram(index);
    for (let c = 0; c < 8; c++) {
      p.beginChunk();
      p.call('add', [16, 0x7fff0000, 0x7fff0000, 0x7fff0000]); // traps on every thread
    }
    p.write(new Float64Array(memory.buffer), 4096 / 8);
    expect(() => pool.run(ctx, 4096, 8)).toThrow(/memory access out of bounds|worker \d of 2 failed/);
    const { program } = addJob(memory, 8, 64);
    expect(() => pool.run(ctx, program, 8)).not.toThrow();
  });

  it('refuses contexts of another pool and chunk counts outside 1…255', () => {
    const pool = makePool(nodeThreadHost, 1);
    const other = makePool(nodeThreadHost, 1);
    const { ctx } = context(other);
    expect(() => pool.run(ctx, 0, 1)).toThrow(RangeError);
    const own = context(pool).ctx;
    expect(() => pool.run(own, 0, 0)).toThrow(RangeError);
    expect(() => pool.run(own, 0, 256)).toThrow(RangeError);
    expect(() => new WorkerPool(nodeThreadHost, 0)).toThrow(RangeError);
  });

  it('takes a new poll time on a running pool, whatever it is jobs still run, and refuses a bad one', () => {
    const pool = makePool(nodeThreadHost, 1);
    const { ctx, f32, memory } = context(pool);
    const job = addJob(memory, 8, 256);
    const x = f32();
    for (const micros of [0, 200, 5000]) {
      pool.setSpinMicros(micros);
      setOperands(x, job, 8 * 256, micros);
      pool.run(ctx, job.program, 8);
      expect(wrongSums(x, job, 8 * 256, micros)).toBe(0);
    }
    for (const bad of [-1, 0.5, Number.NaN, Infinity]) expect(() => pool.setSpinMicros(bad)).toThrow(RangeError);
  });
});

describe('worker threads and process exit', () => {
  it('never keep a process alive: a program that trains on threads and never closes them exits by itself', () => {
    const src = new URL('../../src/', import.meta.url).pathname;
    const script = `
      const { setThreadHost } = await import('${src}tensor/threads.ts');
      const { nodeThreadHost } = await import('${src}node/threads.ts');
      const { Adam, fit, mlp } = await import('${src}nn/index.ts');
      setThreadHost(nodeThreadHost);
      const count = 256, x = new Float32Array(count * 784).map((_, i) => (i % 7) / 7), y = new Uint8Array(count).map((_, i) => i % 10);
      const model = mlp([784, 128, 10], { seed: 1 });
      const history = fit(model, { x, y, count, features: 784, numClasses: 10, name: 'toy' }, { epochs: 1, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0, threads: 2 });
      console.log('threads', history.threads);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.error, 'the process did not exit within 60 s').toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout.trim()).toBe('threads 2');
  });
});
