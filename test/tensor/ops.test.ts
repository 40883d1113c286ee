import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/ops.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { broadcastShapes } from '../../src/tensor/shape.ts';
import { randn, scalar, Tensor, tensor, zeros } from '../../src/tensor/tensor.ts';

describe('tensor creation', () => {
  it('infers shapes from nested arrays and rejects ragged ones', () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(ShapeError);
    expect(() => zeros([2, -1])).toThrow(/invalid dimension -1/);
  });

  it('is deterministic for a seed', () => {
    const a = randn([100], new Rng(7));
    const b = randn([100], new Rng(7));
    const c = randn([100], new Rng(8));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('reshapes with an inferred dimension', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], [6]).reshape([2, -1]).shape).toEqual([2, 3]);
    expect(() => tensor([1, 2, 3], [3]).reshape([2, -1])).toThrow(ShapeError);
  });
});

describe('broadcasting', () => {
  it('follows NumPy rules and names both shapes on failure', () => {
    expect(broadcastShapes([3, 1, 5], [4, 5])).toEqual([3, 4, 5]);
    expect(() => T.add(zeros([2, 3]), zeros([4]))).toThrow(/\[2, 3\] and \[4\]/);
  });

  it('adds a bias row, a column and a scalar', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(T.add(x, tensor([10, 20, 30], [3])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(T.add(x, tensor([[100], [200]])).toArray()).toEqual([[101, 102, 103], [204, 205, 206]]);
    expect(T.mul(x, 2).toArray()).toEqual([[2, 4, 6], [8, 10, 12]]);
    expect(T.sub(1, scalar(3)).item()).toBe(-2);
  });

  it('sums a broadcast result back to its source shape', () => {
    const g = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(T.sumToShape(g, [3]).toArray()).toEqual([5, 7, 9]);
    expect(T.sumToShape(g, [2, 1]).toArray()).toEqual([[6], [15]]);
    expect(T.sumToShape(g, []).item()).toBe(21);
    expect(() => T.sumToShape(g, [2])).toThrow(ShapeError);
  });
});

describe('reductions, softmax and argmax', () => {
  const x = tensor([[1, 5, 3], [7, 2, 9]]);
  it('sums, means and maxes over an axis', () => {
    expect(T.sum(x, 0).toArray()).toEqual([8, 7, 12]);
    expect(T.sum(x, 1, true).toArray()).toEqual([[9], [18]]);
    expect(T.mean(x).item()).toBeCloseTo(27 / 6);
    expect(T.max(x, 1).toArray()).toEqual([5, 9]);
    expect(Array.from(T.argmax(x))).toEqual([1, 2]);
    expect(Array.from(T.argmax(x, 0))).toEqual([1, 0, 1]);
    expect(() => T.sum(x, 2)).toThrow(/axis 2 is out of range/);
  });

  it('computes softmax and log-softmax stably for huge logits', () => {
    const big = tensor([[1000, 1001, 1002], [-1000, -1000, -1000]]);
    const s = T.softmax(big);
    for (const v of s.data) expect(Number.isFinite(v)).toBe(true);
    expect(s.get(1, 0)).toBeCloseTo(1 / 3, 6);
    const ls = T.logSoftmax(big);
    expect(ls.get(0, 2)).toBeCloseTo(-Math.log(1 + Math.exp(-1) + Math.exp(-2)), 5);
    const rowSum = T.sum(s, 1);
    for (const v of rowSum.data) expect(v).toBeCloseTo(1, 6);
  });

  it('propagates NaN through relu and max instead of hiding it', () => {
    const withNaN = tensor([1, Number.NaN, 3], [3]);
    expect(Number.isNaN(T.relu(withNaN).data[1]!)).toBe(true);
    expect(Number.isNaN(T.max(withNaN, 0).item())).toBe(true);
  });

  it('computes sigmoid without overflow', () => {
    const s = T.sigmoid(tensor([-1000, 0, 1000], [3]));
    expect(Array.from(s.data)).toEqual([0, 0.5, 1]);
  });
});

describe('matmul validation', () => {
  it('names both shapes when inner dimensions differ', () => {
    expect(() => T.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/inner dimensions 3 and 4 differ \(a=\[2, 3\], b=\[4, 5\]\)/);
    expect(() => T.matmul(zeros([2, 3]), zeros([4, 5]), { transB: true })).toThrow(ShapeError);
    expect(() => T.matmul(zeros([3]), zeros([3, 1]))).toThrow(/needs two matrices/);
  });
});
