export { add, sub, mul, div, neg } from './arithmetic.ts';
export { exp, log, relu, sigmoid, tanh } from './elementwise.ts';
export { matmul, linear } from './matmul.ts';
export { conv2d } from './conv.ts';
export { maxPool2d, avgPool2d } from './pool.ts';
export { sum, mean, max } from './reduce.ts';
export { softmax, logSoftmax } from './softmax.ts';
export { reshape, flatten } from './shape.ts';
export { crossEntropy, softCrossEntropy, mse, type Labels } from './losses.ts';
