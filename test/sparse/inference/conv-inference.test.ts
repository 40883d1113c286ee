// Compiled convolutions on every backend and kernel, against a naive float64 oracle, on awkward shapes
// (1×1 kernels, kernel = input size, odd sizes, stride > 1, padding, 1 channel, batch 1, 0 % and 100 % density),
// with fused activations and pooling (with and without padding), and followed by fully connected layers;
// on wasm-int8, convolutions run on the float SIMD kernels and only the fully connected layers on int8.
import { describe, expect, it } from 'vitest';
import { ConfigError, UnsupportedError } from '../../../src/errors.ts';
import { compileInference, wasmSimdSupported, type Activation, type AnyInferenceLayer, type ConvInferenceLayer, type InferenceBackend } from '../../../src/sparse/index.ts';
import { jsBackend } from '../../../src/sparse/backends/js/backend.ts';
import { Rng } from '../../../src/tensor/index.ts';

interface ConvCase {
  name: string;
  C: number; H: number; W: number; O: number;
  k: [number, number]; s?: [number, number]; p?: [number, number];
  pool?: ConvInferenceLayer['pool'];
  activation?: Activation;
}

const CASES: ConvCase[] = [
  { name: '1×1 kernel', C: 3, H: 5, W: 7, O: 4, k: [1, 1] },
  { name: 'kernel = input size', C: 2, H: 5, W: 5, O: 3, k: [5, 5], activation: 'relu' },
  { name: 'odd sizes, stride 2, padding 1', C: 3, H: 9, W: 11, O: 5, k: [3, 3], s: [2, 2], p: [1, 1], activation: 'tanh' },
  { name: 'rectangular, strides 3×2, padding 1×0', C: 2, H: 10, W: 13, O: 3, k: [2, 3], s: [3, 2], p: [1, 0] },
  { name: '1 channel, max pool 2', C: 1, H: 12, W: 12, O: 6, k: [5, 5], activation: 'relu', pool: { kind: 'max', kernelSize: [2, 2] } },
  { name: 'avg pool 3, stride 2, padding 1', C: 2, H: 9, W: 8, O: 5, k: [3, 3], activation: 'sigmoid', pool: { kind: 'avg', kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] } },
  { name: 'max pool with padding, odd', C: 3, H: 7, W: 9, O: 17, k: [3, 2], p: [1, 1], activation: 'relu', pool: { kind: 'max', kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] } },
  { name: 'avg pool 2 without padding', C: 4, H: 11, W: 6, O: 2, k: [2, 2], pool: { kind: 'avg', kernelSize: [2, 2] } },
  { name: 'max pool 3×2, stride 2×1, no padding', C: 2, H: 10, W: 9, O: 3, k: [3, 3], activation: 'relu', pool: { kind: 'max', kernelSize: [3, 2], stride: [2, 1] } },
  { name: 'avg pool 3, stride 3', C: 1, H: 11, W: 12, O: 2, k: [2, 2], pool: { kind: 'avg', kernelSize: [3, 3] } },
  { name: 'a 1×1 image, 1 filter', C: 1, H: 1, W: 1, O: 1, k: [1, 1], activation: 'relu' },
];

/** Random weights with `density` of them nonzero. */
function randomWeights(n: number, density: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < density ? rng.uniform() * 2 - 1 : 0));
}

function convLayer(c: ConvCase, density: number, rng: Rng): ConvInferenceLayer {
  return {
    kind: 'conv2d', inChannels: c.C, inHeight: c.H, inWidth: c.W, outChannels: c.O, kernelSize: c.k,
    ...(c.s === undefined ? {} : { stride: c.s }), ...(c.p === undefined ? {} : { padding: c.p }),
    weight: randomWeights(c.O * c.C * c.k[0] * c.k[1], density, rng), bias: randomWeights(c.O, 1, rng),
    activation: c.activation ?? 'none', pool: c.pool ?? null,
  };
}

const act = (a: Activation, z: number): number => (a === 'relu' ? Math.max(0, z) : a === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : a === 'tanh' ? Math.tanh(z) : z);

/** The float64 oracle: the definition, loop by loop, for one image. */
function convOracle(l: ConvInferenceLayer, x: ArrayLike<number>): number[] {
  const [kh, kw] = l.kernelSize;
  const [sh, sw] = l.stride ?? [1, 1];
  const [ph, pw] = l.padding ?? [0, 0];
  const Ho = Math.floor((l.inHeight + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((l.inWidth + 2 * pw - kw) / sw) + 1;
  const planes: number[] = [];
  for (let o = 0; o < l.outChannels; o++) {
    for (let y = 0; y < Ho; y++) {
      for (let xo = 0; xo < Wo; xo++) {
        let z = l.bias === null ? 0 : l.bias[o]!;
        for (let c = 0; c < l.inChannels; c++) {
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const iy = y * sh + i - ph;
              const ix = xo * sw + j - pw;
              if (iy < 0 || iy >= l.inHeight || ix < 0 || ix >= l.inWidth) continue;
              z += l.weight![((o * l.inChannels + c) * kh + i) * kw + j]! * x[(c * l.inHeight + iy) * l.inWidth + ix]!;
            }
          }
        }
        planes.push(act(l.activation, z));
      }
    }
  }
  const pool = l.pool;
  if (pool === null || pool === undefined) return planes;
  const [qh, qw] = pool.kernelSize;
  const [rh, rw] = pool.stride ?? pool.kernelSize;
  const [th, tw] = pool.padding ?? [0, 0];
  const Hp = Math.floor((Ho + 2 * th - qh) / rh) + 1;
  const Wp = Math.floor((Wo + 2 * tw - qw) / rw) + 1;
  const out: number[] = [];
  for (let o = 0; o < l.outChannels; o++) {
    for (let y = 0; y < Hp; y++) {
      for (let xo = 0; xo < Wp; xo++) {
        let best = -Infinity;
        let sum = 0;
        for (let i = 0; i < qh; i++) {
          for (let j = 0; j < qw; j++) {
            const iy = y * rh + i - th;
            const ix = xo * rw + j - tw;
            if (iy < 0 || iy >= Ho || ix < 0 || ix >= Wo) continue;
            const v = planes[(o * Ho + iy) * Wo + ix]!;
            best = Math.max(best, v);
            sum += v;
          }
        }
        out.push(pool.kind === 'max' ? best : sum / (qh * qw));
      }
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst / scale, what).toBeLessThan(1e-5);
}

const BACKENDS = wasmSimdSupported() ? ['js', 'wasm-simd'] : ['js'];
const STRATEGIES = ['dense', 'csr', 'auto'] as const;

describe.each(BACKENDS)('compiled convolutions on %s', (backend) => {
  for (const c of CASES) {
    it(`${c.name}: every kernel matches the float64 oracle at 0 %, 30 % and 100 % density, batch 1 and 3`, () => {
      const rng = new Rng(7);
      for (const density of [0, 0.3, 1]) {
        const layer = convLayer(c, density, rng);
        const inFeatures = c.C * c.H * c.W;
        const x = Float32Array.from({ length: 3 * inFeatures }, () => rng.uniform() * 2 - 1);
        const expected = [0, 1, 2].map((s) => convOracle(layer, x.subarray(s * inFeatures, (s + 1) * inFeatures)));
        for (const strategy of STRATEGIES) {
          const model = compileInference([layer], { backend, strategy });
          if (strategy !== 'auto') expect(model.kernels(1)).toEqual([strategy]);
          const what = `${strategy}, density ${density}`;
          expectClose(model.predict(x.subarray(0, inFeatures), 1), expected[0]!, `${what}, batch 1`);
          expectClose(model.predict(Float64Array.from(x), 3), expected.flat(), `${what}, batch 3`);
        }
      }
    });
  }

  it('two convolutions and two fully connected layers (a small LeNet) match the oracle chain, on every strategy', () => {
    const rng = new Rng(3);
    const conv1 = convLayer({ name: '', C: 1, H: 14, W: 13, O: 4, k: [3, 3], activation: 'relu', pool: { kind: 'max', kernelSize: [2, 2] } }, 0.5, rng);
    const conv2 = convLayer({ name: '', C: 4, H: 6, W: 5, O: 6, k: [3, 2], p: [1, 0], activation: 'relu', pool: { kind: 'max', kernelSize: [2, 2] } }, 0.2, rng);
    const fcIn = 6 * 3 * 2;
    const fc1 = { inFeatures: fcIn, outFeatures: 7, weight: randomWeights(7 * fcIn, 0.5, rng), bias: randomWeights(7, 1, rng), activation: 'relu' as const };
    const fc2 = { inFeatures: 7, outFeatures: 3, weight: randomWeights(21, 1, rng), bias: null, activation: 'none' as const };
    const layers: AnyInferenceLayer[] = [conv1, conv2, fc1, fc2];
    const dense = (l: typeof fc1 | typeof fc2, v: number[]): number[] => Array.from({ length: l.outFeatures }, (_, o) => act(l.activation, v.reduce((z, xi, i) => z + l.weight[o * l.inFeatures + i]! * xi, l.bias === null ? 0 : l.bias[o]!)));
    const x = Float32Array.from({ length: 2 * 14 * 13 }, () => rng.uniform());
    const expected = [0, 1].flatMap((s) => dense(fc2, dense(fc1, convOracle(conv2, convOracle(conv1, x.subarray(s * 182, (s + 1) * 182))))));
    for (const strategy of STRATEGIES) {
      const model = compileInference(layers, { backend, strategy });
      expect(model.kernels(2)).toHaveLength(4);
      expect(model.report(2).map((r) => r.index)).toEqual([0, 1, 2, 3]);
      expect(model.report(2)[0]).toMatchObject({ inFeatures: 9, outFeatures: 4, denseFlops: 2 * 4 * 9 * 12 * 11 });
      expectClose(model.predict(x, 2), expected, strategy);
      expect(Array.from(model.predictClasses(x, 2))).toHaveLength(2);
    }
  });

  it("'auto' runs a 90 %-sparse convolution sparse and a dense one dense", () => {
    const rng = new Rng(11);
    const c: ConvCase = { name: '', C: 20, H: 12, W: 12, O: 50, k: [5, 5], activation: 'relu' };
    expect(compileInference([convLayer(c, 0.1, rng)], { backend }).kernels(1)).toEqual(['csr']);
    expect(compileInference([convLayer(c, 1, rng)], { backend }).kernels(64)).toEqual(['dense']);
  });

  it('a sample with a NaN pixel gets NaN logits even where every weight that sees it is pruned', () => {
    const layer: ConvInferenceLayer = { kind: 'conv2d', inChannels: 1, inHeight: 4, inWidth: 4, outChannels: 2, kernelSize: [2, 2], weight: new Float32Array(8), bias: null, activation: 'none' };
    const model = compileInference([layer], { backend, strategy: 'csr' });
    const x = new Float32Array(32);
    x[16 + 5] = NaN;
    const y = model.predict(x, 2);
    expect(Array.from(y.subarray(0, 18)).every((v) => v === 0)).toBe(true);
    expect(Array.from(y.subarray(18)).every(Number.isNaN)).toBe(true);
  });
});

describe.runIf(wasmSimdSupported())('wasm-int8: convolutions on the float SIMD kernels, the fully connected rest on int8', () => {
  it('a network of convolutions only gives wasm-simd’s outputs bit for bit, on every strategy', () => {
    const rng = new Rng(5);
    for (const c of CASES) {
      const layer = convLayer(c, 0.5, rng);
      const x = Float32Array.from({ length: 2 * c.C * c.H * c.W }, () => rng.uniform() * 2 - 1);
      for (const strategy of ['dense', 'csr', 'auto'] as const) {
        const float = compileInference([layer], { backend: 'wasm-simd', strategy });
        const int8 = compileInference([layer], { backend: 'wasm-int8', strategy });
        expect(int8.backend).toBe('wasm-int8');
        expect(int8.kernels(2), `${c.name} ${strategy}`).toEqual(float.kernels(2));
        expect(Array.from(int8.predict(x, 2)), `${c.name} ${strategy}`).toEqual(Array.from(float.predict(x, 2)));
      }
    }
  });

  it('convolutions then fully connected layers stay within the int8 tolerance of the float64 oracle; NaN pixels give NaN logits', () => {
    const rng = new Rng(13);
    const conv = convLayer({ name: '', C: 1, H: 12, W: 12, O: 6, k: [5, 5], activation: 'relu', pool: { kind: 'max', kernelSize: [2, 2] } }, 0.6, rng);
    const fc = { inFeatures: 6 * 4 * 4, outFeatures: 5, weight: randomWeights(5 * 96, 0.5, rng), bias: randomWeights(5, 1, rng), activation: 'none' as const };
    const x = Float32Array.from({ length: 3 * 144 }, () => rng.uniform());
    const expected = [0, 1, 2].flatMap((s) => {
      const features = convOracle(conv, x.subarray(s * 144, (s + 1) * 144));
      return Array.from({ length: 5 }, (_, o) => features.reduce((z, v, i) => z + fc.weight[o * 96 + i]! * v, fc.bias[o]!));
    });
    const model = compileInference([conv, fc], { backend: 'wasm-int8' });
    const got = model.predict(x, 3);
    const largest = Math.max(...expected.map(Math.abs));
    for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i]! - expected[i]!), `logit ${i}`).toBeLessThanOrEqual(0.05 * largest);
    x[144 + 70] = NaN;
    const flagged = model.predict(x, 3);
    expect(Array.from(flagged.subarray(5, 10)).every(Number.isNaN)).toBe(true);
    expect(Array.from(flagged.subarray(0, 5)).some(Number.isNaN)).toBe(false);
  });
});

describe('compiled convolutions: checks', () => {
  const base: ConvInferenceLayer = { kind: 'conv2d', inChannels: 1, inHeight: 4, inWidth: 4, outChannels: 2, kernelSize: [2, 2], weight: new Float32Array(8), bias: null, activation: 'none' };

  it('refuses a kernel larger than the padded input, a wrong weight size, and a convolution after a fully connected layer', () => {
    expect(() => compileInference([{ ...base, kernelSize: [5, 5] }], { backend: 'js' })).toThrow(/does not fit the 4×4 input/);
    expect(() => compileInference([{ ...base, weight: new Float32Array(7) }], { backend: 'js' })).toThrow(/weight must be a Float32Array of \[2, 1, 2, 2\]/);
    const fc = { inFeatures: 16, outFeatures: 16, weight: new Float32Array(256), bias: null, activation: 'none' as const };
    expect(() => compileInference([fc, base], { backend: 'js' })).toThrow(ConfigError);
  });

  it('a backend without compileConv says it does not run convolutions', () => {
    const { compileConv: _unused, ...withoutConv } = jsBackend;
    const backend: InferenceBackend = { ...withoutConv, name: 'no-conv' };
    expect(() => compileInference([base], { backend })).toThrow(UnsupportedError);
    expect(() => compileInference([base], { backend })).toThrow(/does not run convolution layers/);
  });
});
