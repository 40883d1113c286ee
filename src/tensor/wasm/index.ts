export { simdInstance, createSimdInstance, withSimdInstance, activeSimd, trainingModuleBytes, type SimdInstance, type TrainingKernels } from './instance.ts';
export { TrainingArena, ScratchRegion, KernelCall } from './arena.ts';
export { simdGemmNN, simdGemmNT, simdGemmTN, simdGemmStrided, type RowRange } from './gemm.ts';
export { simdRelu, simdReluBackward, simdAdd, simdAddRowVector, simdSumRows, simdAdam, simdSgd, type AdamStep, type SgdStep } from './simd-kernels.ts';
