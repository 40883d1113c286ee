import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../../src/errors.ts';
import { compileInference, panelWidths, SparseModel, type Activation, type InferenceLayer, type InferenceStrategy } from '../../../src/sparse/index.ts';
import { Rng } from '../../../src/tensor/index.ts';
import { forwardReference, makeLayers, maxRelativeError, randomVector } from '../../reference/sparse.ts';

function argmaxRows(y: ArrayLike<number>, batch: number, n: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s++) {
    let best = 0;
    for (let c = 1; c < n; c++) if (y[s * n + c]! > y[s * n + best]!) best = c;
    out.push(best);
  }
  return out;
}

const STRATEGIES: InferenceStrategy[] = ['auto', 'dense', 'csr', 'bsr4x1', 'autotune'];

// Every panel width (layout.ts) and mix of them: 1–3 single samples, 8, 8+4, 16, 16+1, 16+8+4+1, 16+16+4+1, 4×16.
const BATCHES = [1, 2, 3, 8, 12, 16, 17, 29, 37, 64];

describe('the batch sizes below', () => {
  it('reach every panel width', () => {
    expect(new Set(BATCHES.flatMap((b) => panelWidths(b)))).toEqual(new Set([1, 4, 8, 16]));
  });
});

describe('compileInference', () => {
  const rng = new Rng(31);
  const networks: { name: string; sizes: number[]; densities: number[]; activations: Activation[] }[] = [
    { name: 'LeNet-like 95 % sparse', sizes: [78, 30, 10, 4], densities: [0.05, 0.05, 0.05], activations: ['relu', 'relu', 'none'] },
    { name: 'mixed densities and activations', sizes: [19, 33, 7, 5], densities: [1, 0.5, 0.2], activations: ['tanh', 'sigmoid', 'none'] },
    { name: 'one layer, nothing kept', sizes: [6, 3], densities: [0], activations: ['relu'] },
    { name: 'one input, one output', sizes: [1, 1], densities: [1], activations: ['none'] },
  ];
  for (const net of networks) {
    for (const strategy of STRATEGIES) {
      it(`${net.name}, strategy ${strategy}: equals the float64 dense network within 1e-5 and predicts the same classes`, () => {
        const layers = makeLayers(net.sizes, net.densities, net.activations, rng);
        const model = compileInference(layers, { backend: 'js', strategy });
        expect(model).toBeInstanceOf(SparseModel);
        expect(model.backend).toBe('js');
        const dense = compileInference(layers, { backend: 'js', strategy: 'dense' });
        const nOut = net.sizes[net.sizes.length - 1]!;
        for (const batch of BATCHES) {
          const x = randomVector(batch * net.sizes[0]!, rng);
          const expected = forwardReference(layers, x, batch);
          const y = model.predict(x, batch);
          expect(y.length).toBe(batch * nOut);
          expect(maxRelativeError(y, expected)).toBeLessThan(1e-5);
          expect(Array.from(model.predictClasses(x, batch))).toEqual(argmaxRows(dense.predict(x, batch), batch, nOut));
        }
      });
    }
  }

  it('applies an explicit mask as pruning', () => {
    const layers = makeLayers([12, 8], [1], ['none'], rng);
    const mask = new Uint8Array(96).map(() => (rng.uniform() < 0.3 ? 1 : 0));
    const masked: InferenceLayer[] = [{ ...layers[0]!, mask }];
    const x = randomVector(3 * 12, rng);
    const model = compileInference(masked, { backend: 'js', strategy: 'csr' });
    expect(maxRelativeError(model.predict(x, 3), forwardReference(masked, x, 3))).toBeLessThan(1e-5);
    expect(model.report()[0]!.nnz).toBeLessThanOrEqual(mask.reduce((a, b) => a + b, 0));
  });

  it('does not see later changes to the caller weights', () => {
    const layers = makeLayers([5, 4], [1], ['none'], rng);
    const x = randomVector(5, rng);
    const model = compileInference(layers, { backend: 'js' });
    const before = model.predict(x, 1).slice();
    layers[0]!.weight.fill(100);
    expect(model.predict(x, 1)).toEqual(before);
  });

  it('reuses its buffers: repeated calls at one batch size return the same array', () => {
    const model = compileInference(makeLayers([10, 6, 3], [0.1, 1], ['relu', 'none'], rng), { backend: 'js' });
    const x = randomVector(20, rng);
    const first = model.predict(x, 2);
    expect(model.predict(x, 2)).toBe(first);
    expect(model.predict(randomVector(30, rng), 3)).not.toBe(first);
  });

  it('validates inputs at the boundary, naming expected and actual sizes', () => {
    const model = compileInference(makeLayers([10, 3], [1], ['none'], rng), { backend: 'js' });
    expect(() => model.predict(new Float32Array(19), 2)).toThrow(ShapeError);
    expect(() => model.predict(new Float32Array(19), 2)).toThrow(/19 elements, expected batch × inFeatures = 2 × 10 = 20/);
    expect(() => model.predict(new Float32Array(0), 0)).toThrow(/batch must be a positive integer, got 0/);
    expect(() => model.predict(new Float32Array(10), 1.5)).toThrow(ShapeError);
    expect(() => model.predict([1, 2] as unknown as Float32Array, 1)).toThrow(ShapeError);
  });

  it('validates layers: shapes, the chain, activations, strategy', () => {
    const good = makeLayers([4, 3, 2], [1, 1], ['relu', 'none'], rng);
    expect(() => compileInference([])).toThrow(ConfigError);
    expect(() => compileInference([{ ...good[0]!, weight: new Float32Array(11) }])).toThrow(/weight has 11 elements, expected \[3, 4\] = 12/);
    expect(() => compileInference([{ ...good[0]!, bias: new Float32Array(2) }])).toThrow(/bias has 2 elements, expected 3/);
    expect(() => compileInference([good[0]!, { ...good[1]!, inFeatures: 4, weight: new Float32Array(8) }])).toThrow(/layer 1 expects 4 inputs but layer 0 gives 3/);
    expect(() => compileInference([{ ...good[0]!, activation: 'gelu' as Activation }])).toThrow(ConfigError);
    expect(() => compileInference(good, { backend: 'js', strategy: 'fast' as InferenceStrategy })).toThrow(/unknown strategy 'fast'/);
  });

  it('reports nnz, density, bytes, FLOPs and the chosen kernel per layer', () => {
    const layers = makeLayers([40, 20, 5], [0.1, 1], ['relu', 'none'], rng);
    const [first, second] = compileInference(layers, { backend: 'js', strategy: 'auto' }).report(1);
    const nnz = layers[0]!.weight.filter((v) => v !== 0).length;
    expect(first).toMatchObject({ index: 0, inFeatures: 40, outFeatures: 20, nnz, denseBytes: 4 * 800, csrBytes: 8 * nnz + 4 * 21, denseFlops: 1600, sparseFlops: 2 * nnz });
    expect(first!.density).toBeCloseTo(nnz / 800, 12);
    expect(first!.kernel).toBe('csr');
    expect(second!.kernel).toBe('dense');
    expect(second!.bsrBytes).toBeNull(); // 5 rows pad to 8 in 4×1 blocks: more than 1.5× the nonzeros
  });

  it('runs 4×1 block-pruned weights with the BSR kernel and reports its bytes', () => {
    const weight = new Float32Array(64 * 50);
    for (let r = 0; r < 16; r++) for (let c = 0; c < 50; c++) if (rng.uniform() < 0.1) for (let t = 0; t < 4; t++) weight[(4 * r + t) * 50 + c] = rng.normal() || 1;
    const layers: InferenceLayer[] = [{ weight, inFeatures: 50, outFeatures: 64, bias: randomVector(64, rng), activation: 'relu' }];
    const model = compileInference(layers, { backend: 'js' });
    const [report] = model.report(1);
    expect(report!.kernel).toBe('bsr4x1');
    expect(report!.bsrBytes).toBe(5 * report!.nnz + 4 * 17); // 16 bytes of values + 4 of index per 4 entries
    for (const batch of [1, 5, 16]) {
      const x = randomVector(batch * 50, rng);
      expect(maxRelativeError(model.predict(x, batch), forwardReference(layers, x, batch))).toBeLessThan(1e-5);
    }
  });
});
