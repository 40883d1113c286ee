import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { Adam, AdamW, cosineLR, Parameter, SGD, stepLR } from '../../src/nn/index.ts';
import { tensor } from '../../src/tensor/tensor.ts';

function param(values: number[]): Parameter {
  return new Parameter(tensor(values, [values.length], 'float64'));
}
function setGrad(p: Parameter, values: number[]): void {
  p.grad = tensor(values, [values.length], 'float64');
}

describe('SGD', () => {
  it('takes plain, momentum and Nesterov steps as torch.optim.SGD defines them', () => {
    const p = param([1, -2]);
    const plain = new SGD([p], { lr: 0.1, weightDecay: 0.5 });
    setGrad(p, [1, 1]);
    plain.step(); // w − lr·(g + wd·w) = 1 − 0.1·1.5, −2 − 0.1·0
    expect(Array.from(p.value.data)).toEqual([1 - 0.1 * 1.5, -2 - 0.1 * (1 - 1)]);

    const q = param([0]);
    const momentum = new SGD([q], { lr: 1, momentum: 0.9 });
    setGrad(q, [1]); momentum.step(); // v=1, w=-1
    setGrad(q, [1]); momentum.step(); // v=1.9, w=-2.9
    expect(q.value.data[0]).toBeCloseTo(-2.9, 12);

    const r = param([0]);
    const nesterov = new SGD([r], { lr: 1, momentum: 0.9, nesterov: true });
    setGrad(r, [1]); nesterov.step(); // v=1, step g+μv = 1.9
    setGrad(r, [1]); nesterov.step(); // v=1.9, step 1+0.9·1.9 = 2.71
    expect(r.value.data[0]).toBeCloseTo(-(1.9 + 2.71), 12);
  });

  it('rejects bad settings with a message naming them', () => {
    expect(() => new SGD([param([1])], { lr: 0 })).toThrow(/learning rate/);
    expect(() => new SGD([param([1])], { lr: 0.1, momentum: 1.5 })).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => new SGD([param([1])], { lr: 0.1, nesterov: true })).toThrow(ConfigError);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/no parameters/);
  });
});

describe('Adam and AdamW', () => {
  it('matches the bias-corrected update by hand', () => {
    const p = param([1]);
    const adam = new Adam([p], { lr: 0.01 });
    setGrad(p, [0.5]);
    adam.step();
    // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr.
    expect(p.value.data[0]).toBeCloseTo(1 - 0.01 * 0.5 / (0.5 + 1e-8), 12);
    setGrad(p, [-1]);
    adam.step();
    const m = 0.9 * (0.1 * 0.5) + 0.1 * -1;
    const v = 0.999 * (0.001 * 0.25) + 0.001 * 1;
    const mHat = m / (1 - 0.9 ** 2);
    const vHat = v / (1 - 0.999 ** 2);
    expect(p.value.data[0]).toBeCloseTo(1 - 0.01 * 0.5 / (0.5 + 1e-8) - 0.01 * mHat / (Math.sqrt(vHat) + 1e-8), 10);
  });

  it('AdamW decays the weight directly, Adam through the gradient', () => {
    const a = param([2]);
    const w = param([2]);
    const adam = new Adam([a], { lr: 0.1, weightDecay: 0.1 });
    const adamw = new AdamW([w], { lr: 0.1, weightDecay: 0.1 });
    setGrad(a, [0]); setGrad(w, [0]);
    adam.step(); adamw.step();
    // Adam: g' = 0.2, normalised step = lr. AdamW: g = 0 gives no Adam step, only w·(1 − lr·wd).
    expect(a.value.data[0]).toBeCloseTo(2 - 0.1, 6);
    expect(w.value.data[0]).toBeCloseTo(2 * (1 - 0.01), 12);
  });
});

describe('masks and optimizers', () => {
  for (const [name, make] of [
    ['SGD+momentum', (p: Parameter) => new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 })],
    ['Nesterov', (p: Parameter) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true })],
    ['Adam', (p: Parameter) => new Adam([p], { lr: 0.1 })],
    ['AdamW', (p: Parameter) => new AdamW([p], { lr: 0.1, weightDecay: 0.1 })],
  ] as const) {
    it(`${name}: a pruned weight stays exactly zero even with momentum built up before pruning`, () => {
      const p = param([1, 2, 3, 4]);
      const opt = make(p);
      for (let i = 0; i < 3; i++) { setGrad(p, [1, 1, 1, 1]); opt.step(); } // build up momentum everywhere
      p.setMask(Uint8Array.from([1, 0, 1, 0]));
      for (let i = 0; i < 5; i++) {
        setGrad(p, [1, 1, 1, 1]);
        opt.step();
        expect(p.value.data[1]).toBe(0);
        expect(p.value.data[3]).toBe(0);
      }
      expect(p.value.data[0]).not.toBe(0);
    });
  }

  it('masks only shrink unless regrowth is allowed', () => {
    const p = param([1, 2, 3]);
    p.setMask(Uint8Array.from([1, 0, 1]));
    expect(() => p.setMask(Uint8Array.from([1, 1, 1]))).toThrow(/would be revived/);
    p.setMask(Uint8Array.from([1, 1, 0]), { allowRegrow: true });
    expect(Array.from(p.value.data)).toEqual([1, 0, 0]); // regrown weight restarts from zero
    expect(() => p.setMask(Uint8Array.from([1, 1]))).toThrow(/2 entries/);
  });
});

describe('learning-rate schedules', () => {
  it('steps and anneals', () => {
    expect(stepLR(2, 0.5).lrAt(3.5, 1)).toBe(0.5);
    expect(stepLR(2, 0.5).lrAt(4, 1)).toBe(0.25);
    expect(cosineLR(10).lrAt(0, 1)).toBe(1);
    expect(cosineLR(10).lrAt(5, 1)).toBeCloseTo(0.5, 12);
    expect(cosineLR(10, 0.1).lrAt(10, 1)).toBeCloseTo(0.1, 12);
  });

  it('holds the base rate before annealing when asked to', () => {
    const held = cosineLR(8, 0, 6);
    expect(held.lrAt(0, 1)).toBe(1);
    expect(held.lrAt(6, 1)).toBe(1);
    expect(held.lrAt(7, 1)).toBeCloseTo(0.5, 12);
    expect(held.lrAt(8, 1)).toBeCloseTo(0, 12);
    expect(() => cosineLR(8, 0, 8)).toThrow(/holdEpochs/);
    expect(() => cosineLR(8, 0, -1)).toThrow(/holdEpochs/);
  });
});
