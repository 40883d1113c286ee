export * from './shape.ts';
export * from './rng.ts';
export * from './tensor.ts';
export * as ops from './ops.ts';
export { gemmNN, gemmNT, gemmTN } from './kernels/gemm.ts';
