export { add, sub, mul, div, neg } from './arithmetic.ts';
export { exp, log, relu, sigmoid, tanh } from './elementwise.ts';
export { matmul, linear } from './matmul.ts';
export { sum, mean, max } from './reduce.ts';
export { softmax, logSoftmax } from './softmax.ts';
export { reshape } from './shape.ts';
export { crossEntropy, softCrossEntropy, mse, type Labels } from './losses.ts';
