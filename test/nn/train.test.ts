import { describe, expect, it } from 'vitest';
import { constant } from '../../src/autograd/index.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { ConfigError, LabelError, NonFiniteError, ShapeError } from '../../src/errors.ts';
import { Adam, Dropout, evaluate, fit, Linear, mlp, mlpSpec, parseArchitecture, predictClasses, SGD } from '../../src/nn/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

/** A separable toy problem: the class is the index of the largest of the first `classes` features. */
function toyData(count: number, features: number, classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * features);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < features; j++) x[i * features + j] = rng.uniform();
    let best = 0;
    for (let c = 1; c < classes; c++) if (x[i * features + c]! > x[i * features + best]!) best = c;
    y[i] = best;
  }
  return { x, y, count, features, numClasses: classes, name: 'toy' };
}

describe('training', () => {
  const train = toyData(600, 8, 3, 1);
  const test = toyData(300, 8, 3, 2);

  it('learns a simple problem', () => {
    const model = mlp([8, 32, 3], { seed: 1 });
    const before = evaluate(model, test).accuracy;
    const history = fit(model, train, { epochs: 15, batchSize: 32, optimizer: new Adam(model.parameters(), { lr: 0.01 }), seed: 3 });
    const after = evaluate(model, test).accuracy;
    expect(history.epochs).toHaveLength(15);
    expect(history.epochs[14]!.loss).toBeLessThan(history.epochs[0]!.loss);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before + 0.2);
  });

  it('gives bit-identical weights for the same seed and different ones for another seed', () => {
    const run = (seed: number): Float32Array[] => {
      const model = mlp([8, 16, 3], { seed });
      fit(model, train, { epochs: 2, batchSize: 50, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), seed });
      return model.parameters().map((p) => Float32Array.from(p.value.data));
    };
    const a = run(5);
    const b = run(5);
    const c = run(6);
    a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true));
    expect(Buffer.from(a[0]!.buffer).equals(Buffer.from(c[0]!.buffer))).toBe(false);
  });

  it('stops with an error naming epoch and batch when the loss becomes non-finite', () => {
    const model = mlp([8, 16, 3], { seed: 1 });
    const opt = new SGD(model.parameters(), { lr: 1e30 });
    expect(() => fit(model, train, { epochs: 3, batchSize: 100, optimizer: opt, seed: 0 })).toThrow(NonFiniteError);
    expect(() => fit(model, train, { epochs: 3, batchSize: 100, optimizer: opt, seed: 0 })).toThrow(/loss is (NaN|Infinity) at epoch 1, batch \d+ of 6/);
  });

  it('rejects labels out of range, wrong input widths and bad settings', () => {
    const model = mlp([8, 4, 3], { seed: 1 });
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const badLabels: Dataset = { ...train, y: train.y.map((v, i) => (i === 7 ? 5 : v)), numClasses: 6 };
    expect(() => fit(model, badLabels, { epochs: 1, batchSize: 32, optimizer: opt, seed: 0 })).toThrow(LabelError);
    const wrongWidth = toyData(10, 9, 3, 1);
    expect(() => fit(model, wrongWidth, { epochs: 1, batchSize: 4, optimizer: opt, seed: 0 })).toThrow(/linear\(8→4\) got input \[4, 9\]/);
    expect(() => fit(model, train, { epochs: 0, batchSize: 4, optimizer: opt, seed: 0 })).toThrow(ConfigError);
    expect(() => fit(model, { ...train, x: train.x.map((v, i) => (i === 3 ? NaN : v)) }, { epochs: 1, batchSize: 4, optimizer: opt, seed: 0 })).toThrow(/non-finite value \(NaN\) at index 3/);
    expect(() => fit(model, { ...train, y: train.y.subarray(1) }, { epochs: 1, batchSize: 4, optimizer: opt, seed: 0 })).toThrow(ShapeError);
  });

  it('predicts classes in evaluation mode (dropout off)', () => {
    const model = mlp([8, 16, 3], { seed: 2 });
    const withDropout = mlp([8, 16, 3], { seed: 2 });
    withDropout.layers.splice(1, 0, new Dropout(0.5, new Rng(0)));
    const a = predictClasses(model, test.x, test.count);
    const b = predictClasses(withDropout, test.x, test.count);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(withDropout.training).toBe(true);
  });
});

describe('layers and architecture', () => {
  it('stores Linear weights [out, in] and validates sizes', () => {
    const layer = new Linear(5, 3, { rng: new Rng(0) });
    expect(layer.weight.value.shape).toEqual([3, 5]);
    expect(layer.forward(constant(new Tensor(new Float32Array(10), [2, 5]))).shape).toEqual([2, 3]);
    expect(() => new Linear(0, 3, { rng: new Rng(0) })).toThrow(/inFeatures must be a positive integer/);
  });

  it('parses architectures and builds LeNet-300-100', () => {
    expect(parseArchitecture('784-300-100-10')).toEqual([784, 300, 100, 10]);
    expect(() => parseArchitecture('784-x-10')).toThrow(/not a list of positive layer widths/);
    const model = mlp(parseArchitecture('784-300-100-10'));
    expect(model.parameterCount()).toBe(784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10);
    expect(model.spec()).toEqual(mlpSpec([784, 300, 100, 10]));
    expect(model.namedParameters().map(([n]) => n)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias', 'layers.4.weight', 'layers.4.bias']);
  });

  it('dropout zeroes about p of the activations and rescales the rest in training', () => {
    const d = new Dropout(0.25, new Rng(9));
    const out = d.forward(constant(new Tensor(new Float32Array(10000).fill(1), [100, 100]))).value.data;
    const zeros = out.filter((v) => v === 0).length;
    expect(zeros / 10000).toBeGreaterThan(0.22);
    expect(zeros / 10000).toBeLessThan(0.28);
    expect(out.find((v) => v !== 0)).toBeCloseTo(1 / 0.75, 6);
    expect(() => new Dropout(1, new Rng(0))).toThrow(/p must be in \[0, 1\)/);
  });
});

describe('knowledge distillation', () => {
  it('reduces to cross-entropy with alpha = 1 and pulls towards the teacher otherwise', async () => {
    const { crossEntropy, distillationLoss } = await import('../../src/nn/index.ts');
    const data = toyData(32, 8, 3, 4);
    const teacher = mlp([8, 16, 3], { seed: 1 });
    const student = mlp([8, 16, 3], { seed: 2 });
    const x = new Tensor(data.x, [32, 8]);
    const logits = student.forward(constant(x));
    expect(distillationLoss(teacher, { alpha: 1 })(logits, data.y, x).value.item()).toBeCloseTo(crossEntropy(logits, data.y).value.item(), 6);
    // The soft term is smallest when the student equals the teacher.
    const self = distillationLoss(teacher, { alpha: 0, temperature: 2 });
    const own = self(teacher.forward(constant(x)), data.y, x).value.item();
    expect(self(logits, data.y, x).value.item()).toBeGreaterThan(own);
    expect(() => distillationLoss(teacher, { alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
  });
});
