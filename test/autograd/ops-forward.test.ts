/**
 * What gradcheck cannot see (it checks that an op's backward matches its own forward, so a forward that
 * computes the wrong thing consistently passes): forward values and shapes against hand-worked numbers,
 * default arguments, the op name each node records (named in engine errors), empty batches, and each
 * op's refusal of bad shapes and labels with an error that names the op. Found by mutation testing
 * (`npm run mutate -- autograd`): each block below kills mutants that survived the gradient checks.
 */
import { describe, expect, it } from 'vitest';
import * as A from '../../src/autograd/ops/index.ts';
import { constant, variable, type Var } from '../../src/autograd/index.ts';
import { LabelError, ShapeError } from '../../src/errors.ts';
import { Tensor, tensor } from '../../src/tensor/tensor.ts';

const v = (values: number[], shape: number[]): Var => variable(tensor(values, shape, 'float64'));
const values = (x: Var): number[] => Array.from(x.value.data);
/** [2, 3, 2] = 0..11 */
const cube = (): Var => v(Array.from({ length: 12 }, (_, i) => i), [2, 3, 2]);

describe('autograd ops: forward values, shapes and defaults', () => {
  it('each op records its name on the node it makes', () => {
    const x = v([1, 2, 3, 4], [2, 2]);
    const w = v([1, 0, 0, 1], [2, 2]);
    const nodes: [string, Var][] = [
      ['add', A.add(x, 1)], ['sub', A.sub(x, 1)], ['mul', A.mul(x, 2)], ['div', A.div(x, 2)], ['neg', A.neg(x)],
      ['exp', A.exp(x)], ['log', A.log(x)], ['relu', A.relu(x)], ['sigmoid', A.sigmoid(x)], ['tanh', A.tanh(x)],
      ['matmul', A.matmul(x, w)], ['linear', A.linear(x, w)], ['sum', A.sum(x)], ['mean', A.mean(x)], ['max', A.max(x, 0)],
      ['softmax', A.softmax(x)], ['logSoftmax', A.logSoftmax(x)], ['reshape', A.reshape(x, [4])],
      ['crossEntropy', A.crossEntropy(x, [0, 1])], ['softCrossEntropy', A.softCrossEntropy(x, tensor([0.5, 0.5, 1, 0], [2, 2], 'float64'))],
      ['mse', A.mse(x, w)],
    ];
    for (const [name, node] of nodes) expect(node.op, name).toBe(name);
  });

  it('numbers on both sides give a constant; a number on one side takes the other side\'s dtype', () => {
    const five = A.add(2, 3);
    expect(five.value.item()).toBe(5);
    expect(five.requiresGrad).toBe(false);
    expect(A.mul(4, 0.5).value.item()).toBe(2);
    const x = v([1, 2], [2]);
    expect(values(A.sub(10, x))).toEqual([9, 8]);
    expect(A.sub(10, x).value.dtype).toBe('float64');
    expect(values(A.div(x, 4))).toEqual([0.25, 0.5]);
  });

  it('sum and mean: over everything, over an axis, keepDims false by default', () => {
    const x = cube();
    expect(A.sum(x).shape).toEqual([]);
    expect(A.sum(x).value.item()).toBe(66);
    expect(A.sum(x, 1).shape).toEqual([2, 2]);
    expect(values(A.sum(x, 1))).toEqual([0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11]);
    expect(A.sum(x, -1, true).shape).toEqual([2, 3, 1]);
    expect(values(A.sum(x, -1, true))).toEqual([1, 5, 9, 13, 17, 21]);
    expect(A.mean(x).value.item()).toBe(5.5);
    expect(A.mean(x, 0).shape).toEqual([3, 2]);
    expect(values(A.mean(x, 0))).toEqual([3, 4, 5, 6, 7, 8]);
    expect(A.mean(x, 2, true).shape).toEqual([2, 3, 1]);
  });

  it('max: values over an axis, keepDims false by default', () => {
    const x = cube();
    const m = A.max(x, 1);
    expect(m.shape).toEqual([2, 2]);
    expect(values(m)).toEqual([4, 5, 10, 11]);
    expect(A.max(x, 1, true).shape).toEqual([2, 1, 2]);
  });

  it('softmax and logSoftmax default to the last axis (also for rank 3)', () => {
    const x = cube();
    const s = A.softmax(x);
    const sums = A.sum(s, -1);
    for (const total of values(sums)) expect(total).toBeCloseTo(1, 12);
    // Along the last axis the pair (a, a + 1) gives (1, e)/(1 + e) everywhere.
    expect(values(s)[0]).toBeCloseTo(1 / (1 + Math.E), 12);
    const l = A.logSoftmax(x);
    expect(values(l)[1]).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 12);
    expect(values(A.softmax(x, 1))[0]).toBeCloseTo(Math.exp(0) / (Math.exp(0) + Math.exp(2) + Math.exp(4)), 12);
  });

  it('losses: values by hand, and an empty batch has loss 0 rather than NaN', () => {
    const logits = v([0, Math.log(3), 0, 0], [2, 2]);
    // Row 0: p = (1/4, 3/4), label 1 → −log(3/4); row 1: p = (1/2, 1/2), label 0 → log 2.
    expect(A.crossEntropy(logits, [1, 0]).value.item()).toBeCloseTo((-Math.log(0.75) + Math.log(2)) / 2, 12);
    expect(A.softCrossEntropy(logits, tensor([0, 1, 1, 0], [2, 2], 'float64')).value.item()).toBeCloseTo((-Math.log(0.75) + Math.log(2)) / 2, 12);
    expect(A.mse(v([1, 2, 3], [3]), constant(tensor([1, 0, 0], [3], 'float64'))).value.item()).toBeCloseTo((4 + 9) / 3, 12);
    const empty = v([], [0, 3]);
    expect(A.crossEntropy(empty, []).value.item()).toBe(0);
    expect(A.softCrossEntropy(empty, new Tensor(new Float64Array(0), [0, 3])).value.item()).toBe(0);
    expect(A.mse(v([], [0]), v([], [0])).value.item()).toBe(0);
  });

  it('linear: x·Wᵀ + b', () => {
    const y = A.linear(v([1, 2], [1, 2]), v([1, 0, 0, 1, 1, 1], [3, 2]), v([10, 20, 30], [3]));
    expect(y.shape).toEqual([1, 3]);
    expect(values(y)).toEqual([11, 22, 33]);
  });
});

describe('autograd ops: refusals name the op and the problem', () => {
  it('an axis out of range', () => {
    const x = v([1, 2, 3, 4], [2, 2]);
    for (const [name, call] of [
      ['sum', () => A.sum(x, 2)], ['mean', () => A.mean(x, -3)], ['max', () => A.max(x, 2)],
      ['softmax', () => A.softmax(x, 2)], ['logSoftmax', () => A.logSoftmax(x, 5)],
    ] as const) {
      expect(call, name).toThrow(ShapeError);
      expect(call, name).toThrow(new RegExp(`^${name}: axis -?\\d is out of range for a tensor of rank 2$`));
    }
  });

  it('crossEntropy: logits must be [batch, classes] with one integer label in range per row', () => {
    const logits = v([0, 0, 0, 0, 0, 0], [2, 3]);
    expect(() => A.crossEntropy(v([0, 0, 0], [3]), [0])).toThrow(/crossEntropy needs logits of shape \[batch, classes\], got \[3\]/);
    expect(() => A.crossEntropy(logits, [0])).toThrow(/crossEntropy: 1 labels for a batch of 2 \(logits \[2, 3\]\)/);
    expect(() => A.crossEntropy(logits, [0, 1, 2])).toThrow(ShapeError);
    for (const [bad, at] of [[3, 1], [-1, 0], [1.5, 1]] as const) {
      const labels = at === 0 ? [bad, 0] : [0, bad];
      expect(() => A.crossEntropy(logits, labels)).toThrow(LabelError);
      expect(() => A.crossEntropy(logits, labels)).toThrow(`crossEntropy: label ${bad} at position ${at} is out of range for 3 classes`);
    }
    expect(() => A.crossEntropy(logits, [2, 0])).not.toThrow();
  });

  it('softCrossEntropy and mse: shapes must match', () => {
    const logits = v([0, 0, 0, 0], [2, 2]);
    expect(() => A.softCrossEntropy(logits, tensor([1, 0], [1, 2], 'float64'))).toThrow(/softCrossEntropy: logits \[2, 2\] and targets \[1, 2\] must both be \[batch, classes\]/);
    expect(() => A.softCrossEntropy(v([0, 0], [2]), tensor([1, 0], [2], 'float64'))).toThrow(/softCrossEntropy: logits \[2\] and targets \[2\] must both be/);
    expect(() => A.mse(logits, v([0, 0], [2]))).toThrow(/mse: prediction \[2, 2\] and target \[2\] must have the same shape/);
  });

  it('linear: input [batch, in], weight [out, in], bias [out]', () => {
    const w = v([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(() => A.linear(v([1, 2], [2]), w)).toThrow(/linear\(2→3\) got input \[2\] and weight \[3, 2\]: the input must be \[batch, 2\]/);
    expect(() => A.linear(v([1, 2, 3], [1, 3]), w)).toThrow(/the input must be \[batch, 2\]/);
    expect(() => A.linear(v([1, 2, 3, 4], [1, 2, 2]), w)).toThrow(/linear\(2→3\) got input \[1, 2, 2\] and weight \[3, 2\]/);
    expect(() => A.linear(v([1, 2], [1, 2]), v([1, 2, 3, 4, 5, 6], [3, 2, 1]))).toThrow(/linear\(2→3\) got input \[1, 2\] and weight \[3, 2, 1\]/);
    expect(() => A.linear(v([1, 2], [1, 2]), w, v([0, 0], [2]))).toThrow(/linear: bias has shape \[2\], expected \[3\]/);
    expect(() => A.linear(v([1, 2], [1, 2]), w, v([0, 0, 0], [1, 3]))).toThrow(/linear: bias has shape \[1, 3\], expected \[3\]/);
    expect(() => A.linear(v([1, 2], [1, 2]), w, v([0, 0, 0], [3, 1]))).toThrow(/linear: bias has shape \[3, 1\], expected \[3\]/);
  });
});
