import { KernelProgram, runChunk } from '../../wasm/kernel-program.ts';
import type { ThreadContext } from '../../wasm/thread-pool.ts';
import { MAX_CHUNKS } from '../../wasm/worker-program.ts';
import { threadPool } from '../../wasm/threads.ts';
import { currentThreads } from '../threads.ts';
import type { KernelCall } from './arena.ts';
import type { SimdInstance } from './instance.ts';

/*
 * One SIMD kernel call split over threads: the caller records the calls each share of the work would make
 * (a KernelProgram, one chunk per share, through a recorder typed like the kernels), and the realm's thread
 * pool runs the chunks on the worker threads and the caller at once, on the same shared memory. The shares
 * are disjoint parts of the output computed by exactly the calls one thread would make for them, so the
 * results are bit-identical to one thread (gemm.ts and simd-kernels.ts say why for their kernels).
 *
 * Work too small to pay for the hand-off (~5–15 µs per job: waking the workers, waiting for the last one)
 * is not split; the thresholds are per kernel, measured by `bench threads` (README, "Threads").
 */

/** A view of one instance's memory, per worker pool: each pool instantiates the module once. */
const contexts = new WeakMap<SimdInstance, ThreadContext>();

/** Work the caller offered to do during the next split call (offerCallerWork), or null. */
let callerWork: (() => void) | null = null;

/**
 * With caller work pending, a split call is cut into up to this many shares per thread: the workers claim
 * the first ones while the caller does its work, and all threads share the rest, so the work costs the
 * call about half its time instead of adding all of it.
 */
const SHARES_PER_THREAD_WITH_CALLER_WORK = 4;

/**
 * Offers `work` for the calling thread to do while the workers run the next call split over threads (a
 * training step gathers its next batch during the optimizer update). The work must not touch the memory
 * of any split call, and must give the same result whenever it runs: it runs in the next split call,
 * or at the latest when `runCallerWork` is called. Work offered earlier and not yet done is done first.
 */
export function offerCallerWork(work: () => void): void {
  runCallerWork();
  callerWork = work;
}

/** Does the offered work now if no split call did it yet. */
export function runCallerWork(): void {
  const work = takeCallerWork();
  work?.();
}

/** Whether offered work is waiting for a split call (or runCallerWork). */
export function hasCallerWork(): boolean {
  return callerWork !== null;
}

/** Forgets offered work not done yet (a training run that ends early). */
export function dropCallerWork(): void {
  callerWork = null;
}

function takeCallerWork(): (() => void) | null {
  const work = callerWork;
  callerWork = null;
  return work;
}

/**
 * How many shares to split `work` units (flops, elements) into: one per thread of the current scope (up to
 * SHARES_PER_THREAD_WITH_CALLER_WORK per thread while caller work is pending), but none smaller than
 * `minPerShare` units; 1 means "do not split". Always 1 without a shared memory.
 */
export function sharesFor(simd: SimdInstance, work: number, minPerShare: number): number {
  const threads = currentThreads();
  if (threads <= 1 || !simd.arena.shared) return 1;
  const most = callerWork === null ? threads : SHARES_PER_THREAD_WITH_CALLER_WORK * threads;
  return Math.max(1, Math.min(most, MAX_CHUNKS, Math.floor(work / minPerShare)));
}

/** A program for `simd`'s kernels, and a recorder of the named kernels that writes into it. */
export function recordKernels<K extends object>(simd: SimdInstance, names: readonly (keyof K & string)[]): { program: KernelProgram; kernels: K } {
  const program = new KernelProgram(simd.functionIndex);
  return { program, kernels: program.recorder<K>(names) };
}

/**
 * Runs every chunk of `program` (recorded for `simd`'s kernels inside `call`) on the threads of the current
 * scope and returns when all are done. Without a pool (threads cannot run here) the caller runs the chunks
 * itself, in order: the same calls, the same bits. Throws what a chunk throws, or ThreadError.
 */
export function runParallel(simd: SimdInstance, call: KernelCall, program: KernelProgram): void {
  const address = call.scratch(8 * program.length);
  const words = new Float64Array(simd.arena.memory.buffer); // taken after scratch(), which may grow the memory
  program.write(words, address / 8);
  const pool = program.chunks > 1 ? threadPool(currentThreads()) : null;
  if (pool === null) {
    const functions = callerFunctions(simd);
    for (let chunk = 0; chunk < program.chunks; chunk++) runChunk(functions, words, address / 8, chunk);
    return;
  }
  let context = contexts.get(simd);
  if (context === undefined || context.pool !== pool) {
    context = pool.attach(simd.module, simd.arena.memory, simd.exportNames, callerFunctions(simd));
    contexts.set(simd, context);
  }
  const work = takeCallerWork();
  pool.run(context, address, program.chunks, work === null ? {} : { callerWork: work });
}

function callerFunctions(simd: SimdInstance): ThreadContext['functions'] {
  const exports = simd.kernels as unknown as Record<string, (...args: number[]) => void>;
  return simd.exportNames.map((name) => exports[name]!);
}
