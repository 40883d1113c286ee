export { Var, constant, variable, type BackwardFn } from './var.ts';
export { backward, noGrad, isGradEnabled, record, topologicalOrder, type BackwardOptions } from './graph.ts';
export { gradcheck, assertGradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.ts';
export * from './ops/index.ts';
