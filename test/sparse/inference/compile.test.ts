// compileInference as a dispatcher over the backend registry, exercised the way a user outside the package
// would: a float64 reference backend defined here, from the public entry point only, registered and run.
import { describe, expect, it } from 'vitest';
import { withBackend } from '../../../src/tensor/backend.ts';
import { wasmSimdSupported } from '../../../src/sparse/index.ts';
import {
  BACKEND_NAMES, CompiledNetwork, compileInference, ConfigError, DEFAULT_BACKEND, inferenceBackends, NonFiniteError, registerInferenceBackend,
  UnsupportedError, type CheckedLayer, type CostModel, type InferenceBackend, type InferenceStrategy, type LayerFacts, type Plan, type PlanStep,
} from 'sparsegrad';
import { COMPILE_HELP } from '../../../src/cli/commands/compile.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { forwardReference, makeLayers, maxRelativeError, randomVector } from '../../reference/sparse.ts';

// ---- a toy backend: every layer dense, in float64 -------------------------------------------------------

interface Float64Layer extends LayerFacts {
  readonly weight: Float64Array;
  readonly bias: Float64Array | null;
}

const FLOAT64_COST_MODEL: CostModel = {
  macNs: { dense: { 1: 5 } },
  rowNs: { perCall: 0, perSample: 0 },
  skipZeros: { touchedNs: 0, columnNs: 0, scanNs: 0 },
  split: (_kernel, batch) => [{ width: batch, count: 1 }],
};

class Float64Model extends CompiledNetwork<Plan<PlanStep<Float64Layer>>> {
  readonly backend = 'float64';

  constructor(private readonly layers: Float64Layer[], strategy: InferenceStrategy, maxPlans: number) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, strategy, FLOAT64_COST_MODEL, maxPlans);
  }

  protected buildPlan(batch: number): Plan<PlanStep<Float64Layer>> {
    const steps = this.layers.map((layer) => ({ layer, kernel: 'dense' as const }));
    return { batch, steps, output: new Float32Array(batch * this.outFeatures), classes: new Int32Array(batch), nonFinite: new Uint8Array(batch) };
  }

  protected run(plan: Plan<PlanStep<Float64Layer>>, x: Float32Array | Float64Array): void {
    let h: ArrayLike<number> = x;
    for (const { layer } of plan.steps) {
      const y = new Float64Array(plan.batch * layer.outFeatures);
      for (let s = 0; s < plan.batch; s++) {
        for (let i = 0; i < layer.outFeatures; i++) {
          let z = layer.bias === null ? 0 : layer.bias[i]!;
          for (let j = 0; j < layer.inFeatures; j++) z += layer.weight[i * layer.inFeatures + j]! * h[s * layer.inFeatures + j]!;
          const a = layer.activation;
          y[s * layer.outFeatures + i] = a === 'relu' ? (z < 0 ? 0 : z) : a === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : a === 'tanh' ? Math.tanh(z) : z;
        }
      }
      h = y;
    }
    plan.output.set(h);
  }
}

function toFloat64Layer(layer: CheckedLayer): Float64Layer {
  return {
    inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, activation: layer.activation,
    nnz: layer.csr.nnz, density: layer.csr.density, csrBytes: layer.csr.bytes, bsrStored: null, bsrBytes: null,
    weight: Float64Array.from(layer.masked), bias: layer.bias === null ? null : Float64Array.from(layer.bias),
  };
}

const float64Backend: InferenceBackend<Float64Model> = {
  name: 'float64',
  description: 'a float64 reference defined in a test',
  requirement: 'nothing',
  supported: () => true,
  strategies: ['auto', 'dense'],
  costModel: FLOAT64_COST_MODEL,
  compile: (layers, { strategy, maxPlans }) => new Float64Model(layers.map(toFloat64Layer), strategy, maxPlans),
};

// ---- tests ----------------------------------------------------------------------------------------------

describe('compileInference: backends from outside the package', () => {
  const rng = new Rng(61);
  const layers = makeLayers([9, 7, 4], [0.5, 1], ['relu', 'sigmoid'], rng);

  it('registers a backend and runs it by name, with the shared plan cache, reports and input checks', () => {
    registerInferenceBackend(float64Backend);
    expect(inferenceBackends().map((b) => b.name)).toEqual([...BACKEND_NAMES, 'float64']);
    const model = compileInference(layers, { backend: 'float64', batch: 3 });
    expect(model).toBeInstanceOf(Float64Model);
    expect(model.backend).toBe('float64');
    for (const batch of [1, 3, 17]) {
      const x = randomVector(batch * 9, rng);
      expect(maxRelativeError(model.predict(x, batch), forwardReference(layers, x, batch))).toBeLessThan(1e-6);
    }
    expect(model.kernels(2)).toEqual(['dense', 'dense']);
    const [first] = model.report(2);
    expect(first!.estimatedNs).toEqual({ dense: 5 * 2 * 9 * 7, csr: Infinity, bsr4x1: Infinity });
    expect(() => model.predict(new Float32Array(10), 1)).toThrow(/x has 10 elements, expected batch × inFeatures = 1 × 9 = 9/);
  });

  it('gives it the non-finite input rule: a sample with a NaN input answers NaN, the others are untouched', () => {
    const model = compileInference(layers, { backend: float64Backend });
    const x = randomVector(3 * 9, rng);
    const expected = forwardReference(layers, x, 3);
    x[9 + 4] = NaN;
    const y = model.predict(x, 3);
    expect(Array.from(y.subarray(4, 8), Number.isNaN)).toEqual([true, true, true, true]);
    expect(maxRelativeError(Array.from(y).filter((_, i) => i < 4 || i >= 8), Array.from(expected).filter((_, i) => i < 4 || i >= 8))).toBeLessThan(1e-6);
  });

  it('runs a backend object passed directly, without registering it', () => {
    const unregistered = { ...float64Backend, name: 'float64-direct' };
    const model = compileInference(layers, { backend: unregistered, strategy: 'dense' });
    expect(model.strategy).toBe('dense');
    expect(inferenceBackends().map((b) => b.name)).not.toContain('float64-direct');
  });

  it('validates layers before any backend sees them', () => {
    const bad = [{ ...layers[0]!, weight: layers[0]!.weight.map((v, i) => (i === 5 ? Infinity : v)) }, layers[1]!];
    expect(() => compileInference(bad, { backend: float64Backend })).toThrow(NonFiniteError);
    expect(() => compileInference(bad, { backend: float64Backend })).toThrow(/layer 0: weight\[5\] \(row 0, column 5\) is Infinity/);
    const badBias = [{ ...layers[0]!, bias: new Float32Array(7).fill(NaN) }];
    expect(() => compileInference(badBias)).toThrow(/layer 0: bias\[0\] is NaN/);
    // A NaN weight that the mask prunes is no weight at all.
    const maskedOut = [{ ...layers[0]!, weight: layers[0]!.weight.map((v, i) => (i === 5 ? NaN : v)), mask: Uint8Array.from({ length: 63 }, (_, i) => (i === 5 ? 0 : 1)) }];
    expect(compileInference(maskedOut).report()[0]!.nnz).toBe(layers[0]!.weight.filter((v, i) => v !== 0 && i !== 5).length);
  });

  it('refuses unknown names, strategies a backend lacks, malformed and duplicate backends, naming the valid ones', () => {
    expect(() => compileInference(layers, { backend: 'gpu' })).toThrow(ConfigError);
    expect(() => compileInference(layers, { backend: 'gpu' })).toThrow(/unknown backend 'gpu' \(js, wasm-simd, wasm-int8, float64\)/);
    expect(() => compileInference(layers, { backend: 'float64', strategy: 'csr' })).toThrow(/strategy 'csr' is not available with backend 'float64' \(auto, dense\)/);
    expect(() => compileInference(layers, { strategy: 'fast' as InferenceStrategy })).toThrow(/unknown strategy 'fast' \(auto, autotune, dense, csr, bsr4x1\)/);
    expect(() => compileInference(layers, { maxPlans: 0 })).toThrow(/maxPlans must be a positive integer, got 0/);
    expect(() => registerInferenceBackend(float64Backend)).toThrow(/a backend named 'float64' exists already/);
    expect(() => registerInferenceBackend({ ...float64Backend, name: 'Float 64' })).toThrow(/name must be lower-case letters, digits and dashes/);
    expect(() => registerInferenceBackend({ ...float64Backend, name: 'no-auto', strategies: ['dense'] })).toThrow(/strategies must include 'auto'/);
    expect(() => registerInferenceBackend({ ...float64Backend, name: 'no-width-1', costModel: { ...FLOAT64_COST_MODEL, macNs: { dense: { 16: 1 } } } })).toThrow(/macNs.dense must list width 1/);
    expect(inferenceBackends().map((b) => b.name)).toEqual([...BACKEND_NAMES, 'float64']);
  });

  it('refuses a backend this engine cannot run with UnsupportedError, naming the ones it can', () => {
    const unavailable = { ...float64Backend, name: 'quantum', requirement: 'a quantum computer', supported: () => false };
    expect(() => compileInference(layers, { backend: unavailable })).toThrow(UnsupportedError);
    expect(() => compileInference(layers, { backend: unavailable })).toThrow(/backend 'quantum' needs a quantum computer, which this JavaScript engine does not provide; use backend 'js' or 'wasm-simd' or 'wasm-int8' or 'float64'/);
  });

  it('uses DEFAULT_BACKEND when none is named', () => {
    expect(DEFAULT_BACKEND).toBe('wasm-simd'); // the fast kernels by default; 'js' stays the reference and fallback
    expect(compileInference(layers).backend).toBe(wasmSimdSupported() ? DEFAULT_BACKEND : 'js');
    expect(withBackend('js', () => compileInference(layers).backend)).toBe('js'); // one switch for training and inference
  });
});

describe('the CLI reads the registry', () => {
  it('`compile --help` lists every built-in backend with its strategies', () => {
    for (const backend of inferenceBackends().filter((b) => (BACKEND_NAMES as readonly string[]).includes(b.name))) {
      expect(COMPILE_HELP).toContain(`${backend.name.padEnd(10)}  ${backend.description}`);
      expect(COMPILE_HELP).toContain(`strategies: ${backend.strategies.join(', ')}`);
    }
  });
});
