import { KernelProgram, runChunk } from '../../wasm/kernel-program.ts';
import type { ThreadContext } from '../../wasm/thread-pool.ts';
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

/**
 * How many shares to split `work` units (flops, elements) into: one per thread of the current scope, but
 * none smaller than `minPerShare` units; 1 means "do not split". Always 1 without a shared memory.
 */
export function sharesFor(simd: SimdInstance, work: number, minPerShare: number): number {
  const threads = currentThreads();
  if (threads <= 1 || !simd.arena.shared) return 1;
  return Math.max(1, Math.min(threads, Math.floor(work / minPerShare)));
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
  pool.run(context, address, program.chunks);
}

function callerFunctions(simd: SimdInstance): ThreadContext['functions'] {
  const exports = simd.kernels as unknown as Record<string, (...args: number[]) => void>;
  return simd.exportNames.map((name) => exports[name]!);
}
