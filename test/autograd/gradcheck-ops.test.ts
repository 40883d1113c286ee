/**
 * Every differentiable op is checked against central finite differences in float64. The catalogue below
 * must name every function exported from src/autograd/ops/*.ts: adding an op without a gradient check
 * makes the first test fail.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gradcheck, type Var } from '../../src/autograd/index.ts';
import * as A from '../../src/autograd/ops/index.ts';
import { BACKENDS, withBackend } from '../../src/tensor/backend.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { randn, Tensor, type DType } from '../../src/tensor/tensor.ts';

const rng = new Rng(1234);
const f64: DType = 'float64';
const normal = (shape: number[]): Tensor => randn(shape, rng, { dtype: f64 });
/** Values bounded away from 0, for log/div and for kinks such as relu at 0. */
const awayFromZero = (shape: number[], min = 0.2): Tensor => {
  const t = normal(shape);
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i]!;
    t.data[i] = Math.sign(v || 1) * (Math.abs(v) + min);
  }
  return t;
};
const positive = (shape: number[]): Tensor => {
  const t = awayFromZero(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.abs(t.data[i]!);
  return t;
};
/** Distinct values (no ties), so max has a unique argmax. */
const distinct = (shape: number[]): Tensor => {
  const t = normal(shape);
  const perm = rng.permutation(t.size);
  for (let i = 0; i < t.size; i++) t.data[i] = perm[i]! * 0.37 - t.size * 0.1;
  return t;
};

interface Case {
  name: string;
  fn: (...xs: Var[]) => Var;
  inputs: Tensor[];
}

/** op name → cases; each case's shapes include the awkward ones on purpose (scalars, 1×N, broadcasting). */
const CASES: Record<string, Case[]> = {
  add: [
    { name: 'same shape', fn: (a, b) => A.add(a!, b!), inputs: [normal([3, 4]), normal([3, 4])] },
    { name: 'row broadcast', fn: (a, b) => A.add(a!, b!), inputs: [normal([3, 4]), normal([4])] },
    { name: 'column broadcast', fn: (a, b) => A.add(a!, b!), inputs: [normal([3, 1]), normal([1, 5])] },
    { name: 'scalar', fn: (a, b) => A.add(a!, b!), inputs: [normal([]), normal([2, 3])] },
    { name: 'with number', fn: (a) => A.add(a!, 2.5), inputs: [normal([2, 2])] },
  ],
  sub: [
    { name: 'broadcast', fn: (a, b) => A.sub(a!, b!), inputs: [normal([2, 3]), normal([3])] },
    { name: 'number first', fn: (a) => A.sub(1, a!), inputs: [normal([4])] },
  ],
  mul: [
    { name: 'broadcast', fn: (a, b) => A.mul(a!, b!), inputs: [normal([2, 3, 4]), normal([3, 1])] },
    { name: 'same input twice (fan-out)', fn: (a) => A.mul(a!, a!), inputs: [normal([5])] },
  ],
  div: [{ name: 'broadcast', fn: (a, b) => A.div(a!, b!), inputs: [normal([3, 4]), awayFromZero([4])] }],
  neg: [{ name: '1xN', fn: (a) => A.neg(a!), inputs: [normal([1, 7])] }],
  exp: [{ name: 'matrix', fn: (a) => A.exp(a!), inputs: [normal([3, 3])] }],
  log: [{ name: 'positive', fn: (a) => A.log(a!), inputs: [positive([2, 5])] }],
  relu: [{ name: 'away from 0', fn: (a) => A.relu(a!), inputs: [awayFromZero([4, 5], 0.01)] }],
  sigmoid: [{ name: 'matrix', fn: (a) => A.sigmoid(a!), inputs: [normal([3, 4])] }],
  tanh: [{ name: 'matrix', fn: (a) => A.tanh(a!), inputs: [normal([3, 4])] }],
  matmul: [
    { name: 'a·b', fn: (a, b) => A.matmul(a!, b!), inputs: [normal([3, 5]), normal([5, 2])] },
    { name: 'a·bᵀ', fn: (a, b) => A.matmul(a!, b!, { transB: true }), inputs: [normal([3, 5]), normal([4, 5])] },
    { name: 'aᵀ·b', fn: (a, b) => A.matmul(a!, b!, { transA: true }), inputs: [normal([5, 3]), normal([5, 2])] },
    { name: '1×1', fn: (a, b) => A.matmul(a!, b!), inputs: [normal([1, 1]), normal([1, 1])] },
    { name: '1×N·N×1', fn: (a, b) => A.matmul(a!, b!), inputs: [normal([1, 7]), normal([7, 1])] },
  ],
  linear: [
    { name: 'with bias', fn: (x, w, b) => A.linear(x!, w!, b!), inputs: [normal([4, 6]), normal([3, 6]), normal([3])] },
    { name: 'no bias', fn: (x, w) => A.linear(x!, w!), inputs: [normal([1, 5]), normal([2, 5])] },
  ],
  conv2d: [
    { name: '3×3, bias, padding 1', fn: (x, w, b) => A.conv2d(x!, w!, b!, { padding: 1 }), inputs: [normal([2, 2, 5, 4]), normal([3, 2, 3, 3]), normal([3])] },
    { name: 'stride 2, odd sizes, no bias', fn: (x, w) => A.conv2d(x!, w!, null, { stride: 2 }), inputs: [normal([1, 3, 7, 5]), normal([2, 3, 3, 2])] },
    { name: '1×1 kernel', fn: (x, w) => A.conv2d(x!, w!), inputs: [normal([2, 3, 2, 3]), normal([4, 3, 1, 1])] },
    { name: 'kernel = input size, 1 channel', fn: (x, w, b) => A.conv2d(x!, w!, b!), inputs: [normal([3, 1, 3, 4]), normal([2, 1, 3, 4]), normal([2])] },
    { name: 'groups 2, stride [1, 2], padding [2, 1]', fn: (x, w, b) => A.conv2d(x!, w!, b!, { groups: 2, stride: [1, 2], padding: [2, 1] }), inputs: [normal([2, 4, 3, 5]), normal([6, 2, 2, 3]), normal([6])] },
  ],
  maxPool2d: [
    { name: '2×2', fn: (a) => A.maxPool2d(a!, { kernelSize: 2 }), inputs: [distinct([2, 3, 4, 6])] },
    { name: '3×3 stride 2 padding 1, odd size', fn: (a) => A.maxPool2d(a!, { kernelSize: 3, stride: 2, padding: 1 }), inputs: [distinct([1, 2, 5, 7])] },
  ],
  avgPool2d: [
    { name: '2×2', fn: (a) => A.avgPool2d(a!, { kernelSize: 2 }), inputs: [normal([2, 2, 4, 5])] },
    { name: '[2, 3] stride 1 padding [1, 1]', fn: (a) => A.avgPool2d(a!, { kernelSize: [2, 3], stride: 1, padding: [1, 1] }), inputs: [normal([1, 3, 3, 4])] },
  ],
  flatten: [
    { name: 'NCHW to rows', fn: (a) => A.mul(A.flatten(a!), A.reshape(a!, [2, 12])), inputs: [normal([2, 3, 2, 2])] },
    { name: 'from axis 2', fn: (a) => A.flatten(a!, 2), inputs: [normal([2, 3, 2, 2])] },
  ],
  sum: [
    { name: 'all', fn: (a) => A.sum(a!), inputs: [normal([2, 3])] },
    { name: 'axis 0', fn: (a) => A.sum(a!, 0), inputs: [normal([3, 4])] },
    { name: 'axis -1 keepDims', fn: (a) => A.sum(a!, -1, true), inputs: [normal([2, 3, 4])] },
    { name: 'an axis of length 1 (the gradient passes through unchanged)', fn: (a) => A.sum(a!, 1), inputs: [normal([3, 1])] },
  ],
  mean: [
    { name: 'all', fn: (a) => A.mean(a!), inputs: [normal([5])] },
    { name: 'axis 1', fn: (a) => A.mean(a!, 1), inputs: [normal([2, 3, 4])] },
  ],
  max: [
    { name: 'axis 1', fn: (a) => A.max(a!, 1), inputs: [distinct([3, 5])] },
    { name: 'axis 0 keepDims', fn: (a) => A.max(a!, 0, true), inputs: [distinct([4, 2])] },
    { name: 'middle axis of a rank-3 tensor (outer and inner sizes > 1)', fn: (a) => A.max(a!, 1), inputs: [distinct([2, 3, 2])] },
  ],
  softmax: [
    { name: 'last axis', fn: (a) => A.softmax(a!), inputs: [normal([3, 5])] },
    { name: 'axis 0', fn: (a) => A.softmax(a!, 0), inputs: [normal([4, 2])] },
  ],
  logSoftmax: [
    { name: 'last axis', fn: (a) => A.logSoftmax(a!), inputs: [normal([3, 5])] },
    { name: 'large logits', fn: (a) => A.logSoftmax(A.mul(a!, 40)), inputs: [normal([2, 4])] },
  ],
  reshape: [{ name: 'flatten', fn: (a) => A.mul(A.reshape(a!, [-1]), A.reshape(a!, [6])), inputs: [normal([2, 3])] }],
  crossEntropy: [
    { name: 'batch of 4', fn: (a) => A.crossEntropy(a!, [0, 2, 1, 2]), inputs: [normal([4, 3])] },
    { name: 'batch of 1', fn: (a) => A.crossEntropy(a!, [4]), inputs: [normal([1, 5])] },
  ],
  softCrossEntropy: [
    { name: 'teacher probabilities', fn: (a) => A.softCrossEntropy(a!, new Tensor(Float64Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]), [2, 3])), inputs: [normal([2, 3])] },
  ],
  mse: [{ name: 'both inputs', fn: (a, b) => A.mse(a!, b!), inputs: [normal([3, 2]), normal([3, 2])] }],
};

describe('gradcheck of every differentiable op', () => {
  it('has a gradient check for every op exported from src/autograd/ops', async () => {
    const dir = new URL('../../src/autograd/ops/', import.meta.url);
    const exported: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts')) {
      const module = (await import(new URL(file, dir).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) if (typeof value === 'function') exported.push(name);
    }
    expect(exported.length).toBeGreaterThan(15);
    const missing = exported.filter((name) => !(name in CASES));
    expect(missing, `ops without a gradcheck case: ${missing.join(', ')}`).toEqual([]);
  });

  for (const [op, cases] of Object.entries(CASES)) {
    for (const c of cases) {
      it(`${op}: ${c.name}`, () => {
        const result = gradcheck(c.fn, c.inputs);
        expect(result.ok, JSON.stringify(result.worst)).toBe(true);
      });
    }
  }

  // The same cases on every backend, the analytical pass in float32 (what training computes in; the
  // 'wasm-simd' kernels exist only for float32) against float64 finite differences. Tolerance atol 1e-4,
  // rtol 1e-3: see GradcheckOptions.dtype.
  for (const backend of BACKENDS) {
    it(`every op in float32 on the ${backend} backend`, () => {
      const failures: string[] = [];
      for (const [op, cases] of Object.entries(CASES)) {
        for (const c of cases) {
          const result = withBackend(backend, () => gradcheck(c.fn, c.inputs, { dtype: 'float32' }));
          if (!result.ok) failures.push(`${op}: ${c.name}: ${JSON.stringify(result.worst)}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it('on wasm-simd the float32 products really run on the SIMD kernels, and a wrong gradient fails there', async () => {
    const T = await import('../../src/tensor/ops.ts');
    const { record } = await import('../../src/autograd/graph.ts');
    const a = randn([64, 96], rng), b = randn([96, 48], rng);
    const onJs = withBackend('js', () => T.matmul(a, b).data), onSimd = withBackend('wasm-simd', () => T.matmul(a, b).data);
    // float32 sums (SIMD) and float64 sums rounded once (TypeScript) differ in the last bits, not more.
    expect(Buffer.from(onJs.buffer).equals(Buffer.from(onSimd.buffer))).toBe(false);
    for (let i = 0; i < onJs.length; i++) expect(Math.abs(onJs[i]! - onSimd[i]!)).toBeLessThan(1e-4);
    // x·W whose backward doubles dW: caught in float32 on the SIMD kernels.
    const bad = (x: Var, w: Var): Var => record('bad', T.matmul(x.value, w.value), [x, w], (dy) => [T.matmul(dy, w.value, { transB: true }), T.scale(T.matmul(x.value, dy, { transA: true }), 2)]);
    expect(withBackend('wasm-simd', () => gradcheck(bad, [normal([3, 5]), normal([5, 4])], { dtype: 'float32' })).ok).toBe(false);
  });

  it('detects a wrong backward (the check can fail)', async () => {
    const { record } = await import('../../src/autograd/graph.ts');
    const T = await import('../../src/tensor/ops.ts');
    // y = x², with a deliberately wrong derivative x instead of 2x.
    const badSquare = (x: Var): Var => record('badSquare', T.square(x.value), [x], (dy) => [T.mul(dy, x.value)]);
    expect(gradcheck(badSquare, [normal([3])]).ok).toBe(false);
  });
});
