export * from './shape.ts';
export * from './rng.ts';
export * from './tensor.ts';
export * as ops from './ops.ts';
export { gemmNN, gemmNT, gemmTN } from './kernels/gemm.ts';
export { BACKENDS, DEFAULT_BACKEND, currentBackend, isBackend, resolveBackend, withBackend, type Backend } from './backend.ts';
export { simdGemmNN, simdGemmNT, simdGemmTN, type RowRange } from './wasm/gemm.ts';
export { withThreads, currentThreads, resolveThreads, setThreadHost, closeThreads, MAX_THREADS } from './threads.ts';
export type { ThreadHost, ThreadWorker } from '../wasm/thread-host.ts';
