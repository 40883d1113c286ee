/**
 * The tensor ops a user calls directly, as the `ops` namespace of the package (`ops.matmul(a, b, { transB:
 * true })`): plain Tensor → Tensor functions that validate their inputs and record no gradients (the
 * differentiable versions are the top-level `add`, `matmul`, ... of src/autograd). The helpers autograd
 * builds its backward passes from (reluBackward, sumToShape, broadcastIndexMap, addRowVectorInPlace) stay
 * internal.
 */
export {
  add, sub, mul, div, maximum, minimum, neg, abs, exp, log, sqrt, square, relu, sigmoid, tanh, scale,
  matmul, transpose, sum, mean, max, maxWithIndex, argmax, softmax, logSoftmax, type MatmulOptions,
} from './ops.ts';
