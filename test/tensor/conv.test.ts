/**
 * Convolution and pooling (src/tensor/conv.ts, pool.ts) against the naive float64 oracle of
 * test/reference/conv.ts: forward and every gradient, in float64 and in float32 on both backends, on the
 * awkward shapes (1×1 kernels, kernel = input size, odd sizes, stride > 1, padding, 1 channel, batch 1,
 * groups, products big enough for several GEMM depth blocks).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { BACKENDS, withBackend } from '../../src/tensor/backend.ts';
import { conv2dBackward, conv2dForward, conv2dGeometry } from '../../src/tensor/conv.ts';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from '../../src/tensor/pool.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { randn, Tensor, type DType } from '../../src/tensor/tensor.ts';
import { referenceConv2d, referenceConv2dGrads, referencePool2d, refOutSize, type RefConv } from '../reference/conv.ts';

const rng = new Rng(7);

const SHAPES: (Partial<RefConv> & { name: string })[] = [
  { name: '3×3 padding 1', batch: 2, channels: 3, height: 6, width: 5, outChannels: 4, kernelH: 3, kernelW: 3, padH: 1, padW: 1 },
  { name: '1×1 kernel', batch: 3, channels: 5, height: 4, width: 3, outChannels: 2, kernelH: 1, kernelW: 1 },
  { name: 'kernel = input size', batch: 2, channels: 2, height: 5, width: 4, outChannels: 3, kernelH: 5, kernelW: 4 },
  { name: 'odd sizes, stride 2', batch: 1, channels: 3, height: 9, width: 7, outChannels: 5, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2 },
  { name: 'stride [3, 1], padding [2, 1]', batch: 2, channels: 2, height: 7, width: 6, outChannels: 3, kernelH: 4, kernelW: 3, strideH: 3, strideW: 1, padH: 2, padW: 1 },
  { name: '1 channel, batch 1 (LeNet conv1 size)', batch: 1, channels: 1, height: 28, width: 28, outChannels: 20, kernelH: 5, kernelW: 5 },
  { name: 'LeNet conv2, batch 3 (K = 500: two depth blocks)', batch: 3, channels: 20, height: 12, width: 12, outChannels: 50, kernelH: 5, kernelW: 5 },
  { name: 'groups 3', batch: 2, channels: 6, height: 5, width: 5, outChannels: 9, kernelH: 3, kernelW: 3, padH: 1, padW: 1, groups: 3 },
  { name: 'depthwise (groups = channels)', batch: 2, channels: 4, height: 4, width: 6, outChannels: 4, kernelH: 3, kernelW: 3, strideH: 2, strideW: 1, groups: 4 },
];

function full(s: Partial<RefConv>): RefConv {
  return { batch: 1, channels: 1, height: 1, width: 1, outChannels: 1, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, groups: 1, ...s };
}

/** |a − b| ≤ atol + rtol·scale element by element, with a message naming the first failure. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = atol * (1 + Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) expect.fail(`${what}[${i}] = ${actual[i]}, expected ${expected[i]}`);
  }
}

const RUNS: { backend: (typeof BACKENDS)[number]; dtype: DType; atol: number }[] = [
  { backend: 'js', dtype: 'float64', atol: 1e-12 },
  ...BACKENDS.map((backend) => ({ backend, dtype: 'float32' as DType, atol: 2e-5 })),
];

describe('conv2d against the float64 oracle', () => {
  for (const shape of SHAPES) {
    const s = full(shape);
    const x = randn([s.batch, s.channels, s.height, s.width], rng, { dtype: 'float64' });
    const w = randn([s.outChannels, s.channels / s.groups, s.kernelH, s.kernelW], rng, { dtype: 'float64', std: 0.3 });
    const b = randn([s.outChannels], rng, { dtype: 'float64' });
    const ho = refOutSize(s.height, s.kernelH, s.strideH, s.padH);
    const wo = refOutSize(s.width, s.kernelW, s.strideW, s.padW);
    const dy = randn([s.batch, s.outChannels, ho, wo], rng, { dtype: 'float64' });
    const expected = referenceConv2d(s, x.data, w.data, b.data);
    const grads = referenceConv2dGrads(s, x.data, w.data, dy.data);
    const options = { stride: [s.strideH, s.strideW] as [number, number], padding: [s.padH, s.padW] as [number, number], groups: s.groups };
    for (const { backend, dtype, atol } of RUNS) {
      it(`${shape.name}: forward and gradients, ${dtype} on ${backend}`, () => {
        withBackend(backend, () => {
          const [xt, wt, bt, dyt] = [x, w, b, dy].map((t) => t.as(dtype)) as [Tensor, Tensor, Tensor, Tensor];
          const forward = conv2dForward(xt, wt, bt, options);
          expect(forward.y.shape).toEqual([s.batch, s.outChannels, ho, wo]);
          expectClose(forward.y.data, expected, atol, 'y');
          const { dx, dw, db } = conv2dBackward(forward, wt, dyt, { x: true, w: true, bias: true });
          expectClose(dx!.data, grads.dx, atol, 'dx');
          expectClose(dw!.data, grads.dw, atol, 'dw');
          expectClose(db!.data, grads.db, atol, 'db');
          const noBias = conv2dForward(xt, wt, null, options).y.data;
          const withoutBias = referenceConv2d(s, x.data, w.data, null);
          expectClose(noBias, withoutBias, atol, 'y without bias');
        });
      });
    }
  }

  it('inference (no patch matrix kept) runs a large batch in chunks, with the same result', () => {
    // 25·576 patch entries per sample: 300 samples need two chunks of MAX_TRANSIENT_PATCH_ELEMENTS.
    const x = randn([300, 1, 28, 28], rng), w = randn([4, 1, 5, 5], rng), b = randn([4], rng);
    for (const backend of BACKENDS) {
      withBackend(backend, () => {
        const kept = conv2dForward(x, w, b);
        const chunked = conv2dForward(x, w, b, {}, false);
        expect(chunked.cols).toBeNull();
        expect(Buffer.from(chunked.y.data.buffer, chunked.y.data.byteOffset, chunked.y.data.byteLength).equals(Buffer.from(kept.y.data.buffer, kept.y.data.byteOffset, kept.y.data.byteLength))).toBe(true);
        expect(() => conv2dBackward(chunked, w, kept.y, { x: true, w: true, bias: true })).toThrow(/kept no patch matrix/);
      });
    }
  });

  it('computes only the gradients asked for', () => {
    const x = randn([2, 1, 4, 4], rng), w = randn([2, 1, 3, 3], rng);
    const forward = conv2dForward(x, w, null);
    const dy = randn([2, 2, 2, 2], rng);
    expect(conv2dBackward(forward, w, dy, { x: false, w: true, bias: false })).toMatchObject({ dx: null, db: null });
    expect(conv2dBackward(forward, w, dy, { x: true, w: false, bias: true }).dw).toBeNull();
  });

  it('refuses shapes and options that do not fit, naming them', () => {
    expect(() => conv2dGeometry([1, 3, 5], [2, 3, 3, 3])).toThrow(ShapeError);
    expect(() => conv2dGeometry([1, 3, 5, 5], [2, 2, 3, 3])).toThrow(/takes 2 input channels/);
    expect(() => conv2dGeometry([1, 3, 2, 2], [2, 3, 3, 3])).toThrow(/does not fit the 2×2 input/);
    expect(() => conv2dGeometry([1, 4, 5, 5], [3, 2, 3, 3], { groups: 2 })).toThrow(/groups must divide/);
    expect(() => conv2dGeometry([1, 3, 5, 5], [2, 3, 3, 3], { stride: 0 })).toThrow(ConfigError);
    expect(() => conv2dGeometry([1, 3, 5, 5], [2, 3, 3, 3], { padding: -1 })).toThrow(ConfigError);
    expect(() => conv2dGeometry([1, 3, 5, 5], [2, 3, 3, 3], { stride: [1, 2, 3] as unknown as [number, number] })).toThrow(ConfigError);
    expect(() => conv2dForward(randn([1, 1, 3, 3], rng), randn([2, 1, 2, 2], rng), randn([3], rng))).toThrow(/bias has shape \[3\], expected \[2\]/);
  });
});

describe('pooling against the float64 oracle', () => {
  const CASES: { name: string; shape: [number, number, number, number]; k: [number, number]; stride?: [number, number]; pad?: [number, number] }[] = [
    { name: '2×2', shape: [2, 3, 4, 6], k: [2, 2] },
    { name: 'odd size, 2×2 (last row and column dropped)', shape: [1, 2, 5, 7], k: [2, 2] },
    { name: '3×3 stride 2 padding 1', shape: [2, 1, 7, 5], k: [3, 3], stride: [2, 2], pad: [1, 1] },
    { name: 'window = input', shape: [3, 2, 3, 4], k: [3, 4] },
    { name: '[2, 3] stride [1, 2]', shape: [1, 4, 4, 7], k: [2, 3], stride: [1, 2] },
  ];
  for (const c of CASES) {
    for (const kind of ['max', 'avg'] as const) {
      it(`${kind}: ${c.name}, forward and gradient`, () => {
        const planes = c.shape[0] * c.shape[1];
        const stride = c.stride ?? c.k;
        const pad = c.pad ?? [0, 0];
        // Distinct values, so the maximum is unique and the gradient well defined.
        const perm = rng.permutation(c.shape.reduce((a, b) => a * b, 1));
        const x = new Tensor(Float64Array.from(perm, (v) => v * 0.25 - 3), c.shape);
        const options = { kernelSize: c.k, stride, padding: pad };
        const expected = referencePool2d(kind, planes, c.shape[2], c.shape[3], c.k, stride, pad, x.data);
        const forward = kind === 'max' ? maxPool2dForward(x, options) : avgPool2dForward(x, options);
        expectClose(forward.y.data, expected, 1e-12, 'y');
        // The gradient by linearity: for avg the adjoint; for max, dy lands on the unique argmax.
        const dy = randn(forward.y.shape, rng, { dtype: 'float64' });
        const dx = kind === 'max'
          ? maxPool2dBackward(x.shape, (forward as ReturnType<typeof maxPool2dForward>).argmax, dy)
          : avgPool2dBackward(forward.geometry, dy);
        // Check <dy, pool(x + h·e)> slopes on a few coordinates against dx (exact for a linear/ piecewise-linear map).
        for (let probe = 0; probe < 12; probe++) {
          const i = rng.int(x.size);
          const moved = x.clone();
          moved.data[i]! += 1e-3;
          const y2 = kind === 'max' ? maxPool2dForward(moved, options).y : avgPool2dForward(moved, options).y;
          let slope = 0;
          for (let k = 0; k < y2.size; k++) slope += dy.data[k]! * (y2.data[k]! - forward.y.data[k]!);
          expect(slope / 1e-3).toBeCloseTo(dx.data[i]!, 6);
        }
      });
    }
  }

  it('max pooling propagates NaN, and refuses padding over half the window', () => {
    const x = new Tensor(Float32Array.from([1, NaN, 3, 4]), [1, 1, 2, 2]);
    expect(Number.isNaN(maxPool2dForward(x, { kernelSize: 2 }).y.data[0])).toBe(true);
    expect(() => maxPool2dForward(x, { kernelSize: 2, padding: 2 })).toThrow(/at most half/);
    expect(() => avgPool2dForward(x, { kernelSize: 3 })).toThrow(ShapeError);
    expect(() => maxPool2dForward(new Tensor(new Float32Array(4), [2, 2]), { kernelSize: 1 })).toThrow(/batch, channels, height, width/);
  });
});
