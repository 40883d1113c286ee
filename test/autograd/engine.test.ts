import { describe, expect, it } from 'vitest';
import { add, backward, constant, mul, noGrad, record, relu, sum, tanh, variable, type Var } from '../../src/autograd/index.ts';
import { recordFresh } from '../../src/autograd/graph.ts';
import { ShapeError, StateError } from '../../src/errors.ts';
import * as T from '../../src/tensor/ops.ts';
import { scalar, tensor, type Tensor } from '../../src/tensor/tensor.ts';

describe('autograd engine', () => {
  it('matches a hand-worked example (micrograd test_sanity_check)', () => {
    // x = -4; z = 2x + 2 + x; q = relu(z) + z·x; h = relu(z·z); y = h + q + q·x
    // By hand: z = -10, q = 40, h = 100, y = -20; dy/dx = 46.
    const x = variable(scalar(-4, 'float64'));
    const z = add(add(mul(x, 2), 2), x);
    const q = add(relu(z), mul(z, x));
    const h = relu(mul(z, z));
    const y = add(add(h, q), mul(q, x));
    backward(y);
    expect(y.value.item()).toBe(-20);
    expect(x.grad!.item()).toBe(46);
  });

  it('accumulates gradients at fan-out and across backward calls', () => {
    const x = variable(tensor([1, 2, 3], [3], 'float64'));
    backward(sum(add(mul(x, x), x))); // d/dx (x² + x) = 2x + 1
    expect(Array.from(x.grad!.data)).toEqual([3, 5, 7]);
    backward(sum(x)); // grads accumulate until cleared, like PyTorch
    expect(Array.from(x.grad!.data)).toEqual([4, 6, 8]);
  });

  it('reduces broadcast gradients to the input shape centrally', () => {
    const a = variable(tensor([[1, 2, 3], [4, 5, 6]], undefined, 'float64'));
    const b = variable(tensor([10, 20, 30], [3], 'float64'));
    backward(sum(mul(a, b)));
    expect(b.grad!.shape).toEqual([3]);
    expect(Array.from(b.grad!.data)).toEqual([5, 7, 9]);
  });

  it('walks very deep graphs without recursion (iterative topological order)', () => {
    const x = variable(scalar(0.5, 'float64'));
    let y: Var = x;
    for (let i = 0; i < 50_000; i++) y = add(y, 1e-6);
    backward(tanh(y));
    expect(x.grad!.item()).toBeCloseTo(1 - Math.tanh(0.55) ** 2, 9);
  });

  it('refuses a second backward through a freed graph, unless retained', () => {
    const x = variable(scalar(3, 'float64'));
    const y = mul(x, x);
    backward(y, undefined, { retainGraph: true });
    backward(y);
    expect(x.grad!.item()).toBe(12);
    expect(() => backward(y)).toThrow(StateError);
  });

  it('needs a seed for a non-scalar root and checks its shape', () => {
    const x = variable(tensor([1, 2], [2], 'float64'));
    expect(() => backward(mul(x, 2))).toThrow(/pass a seed/);
    expect(() => backward(mul(x, 2), tensor([1, 2, 3], [3]))).toThrow(ShapeError);
  });

  it('rejects a gradient of the wrong shape, naming the op', () => {
    const x = variable(tensor([1, 2, 3], [3], 'float64'));
    const broken = record('brokenOp', T.mul(x.value, 2), [x], () => [tensor([1, 2], [2], 'float64')]);
    expect(() => backward(sum(broken))).toThrow(/brokenOp.*\[2\].*\[3\]/);
  });

  it('records nothing under noGrad or for constants', () => {
    const x = variable(scalar(2));
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.parents).toEqual([]);
    expect(mul(constant(scalar(2)), 3).requiresGrad).toBe(false);
    expect(() => backward(y)).toThrow(StateError);
  });

  it("keeps a fresh producer's gradient as a leaf's grad, and copies every gradient that may be shared", () => {
    // A fresh op (recordFresh) returns new tensors: the leaf keeps the very tensor, no copy.
    const made: Tensor[] = [];
    const a = variable(tensor([1, 2, 3]));
    const doubled = recordFresh('double', T.scale(a.value, 2), [a], (dy) => [made[made.push(T.scale(dy, 2)) - 1]!]);
    backward(sum(doubled));
    expect(a.grad).toBe(made[0]);
    // An op that hands its dy to both inputs: each leaf gets its own copy, so one can change without the other.
    const x = variable(tensor([1, 2])), y = variable(tensor([3, 4]));
    backward(sum(add(x, y)));
    x.grad!.data[0] = 99;
    expect(Array.from(y.grad!.data)).toEqual([1, 1]);
    // The same through a fresh producer's output first: add still shares its dy, so both are copies.
    const u = variable(tensor([1, 2])), v = variable(tensor([3, 4]));
    const s = add(u, v);
    backward(sum(recordFresh('copy', T.scale(s.value, 1), [s], (dy) => [T.scale(dy, 1)])));
    u.grad!.data[1] = -5;
    expect(Array.from(v.grad!.data)).toEqual([1, 1]);
    // A public record op that returns a tensor it keeps: the leaf's grad is a copy of it, never the tensor.
    const kept = tensor([7, 8]);
    const w = variable(tensor([0, 0]));
    backward(sum(record('keeps', T.scale(w.value, 1), [w], () => [kept])));
    expect(w.grad).not.toBe(kept);
    w.grad!.data[0] = 0;
    expect(Array.from(kept.data)).toEqual([7, 8]);
  });
});

