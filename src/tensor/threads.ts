import { resolveThreads } from '../wasm/threads.ts';

export { resolveThreads, threadPool, closeThreads, setThreadHost, threadHost, MAX_THREADS } from '../wasm/threads.ts';

/*
 * How many threads the SIMD training kernels may split one call over, scoped like the backend
 * (backend.ts): `withThreads(n, fn)` runs fn with n threads and restores the previous count, and `fit`
 * takes a `threads` option that does the same for one run. The default is 1: threads are opt-in in the
 * library (the CLI asks for one per core). Only the 'wasm-simd' backend uses them; a call too small to pay
 * for the hand-off runs on one thread whatever the count (see src/tensor/wasm/parallel.ts).
 */

let current = 1;

/** The thread count of the current scope (1 unless `withThreads` or `fit`'s `threads` set one). */
export function currentThreads(): number {
  return current;
}

/**
 * Runs `fn` with up to `threads` threads for the SIMD kernels, then restores the previous count (also when
 * fn throws). Throws ConfigError unless threads is an integer from 1 to MAX_THREADS. Where threads cannot
 * run (see resolveThreads) the kernels use one.
 */
export function withThreads<T>(threads: number, fn: () => T): T {
  resolveThreads(threads); // validates
  const previous = current;
  current = threads;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
