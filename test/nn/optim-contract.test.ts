/**
 * The rest of the Parameter and Optimizer contract, pinned where mutation testing (`npm run mutate -- optim`)
 * found nothing watching: kept weights under a mask follow exactly the unmasked update; parameters without a
 * gradient are skipped; a resized parameter gets fresh state; the state each optimizer keeps (how many
 * buffers, float32 for the SIMD path, converted once from float64) as `placeState` shows it; an optimizer
 * that has no SIMD update runs its own on 'wasm-simd'; every setting is validated with a message naming
 * it; makeOptimizer and the schedules; Parameter's small methods.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { Adam, AdamW, cosineLR, makeOptimizer, OPTIMIZERS, Parameter, SGD, stepLR } from '../../src/nn/index.ts';
import { Optimizer } from '../../src/nn/optim/optimizer.ts';
import { BACKENDS, withBackend } from '../../src/tensor/backend.ts';
import type { FloatArray } from '../../src/tensor/tensor.ts';
import { Tensor, tensor } from '../../src/tensor/tensor.ts';

const f32 = (values: number[]): Parameter => new Parameter(new Tensor(Float32Array.from(values), [values.length]));
const f64 = (values: number[]): Parameter => new Parameter(tensor(values, [values.length], 'float64'));
const grad = (p: Parameter, values: number[]): void => {
  p.grad = new Tensor(p.value.dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), [values.length]);
};
/** The state buffers `placeState` passes on, per parameter (the optimizer keeps using the same arrays). */
function stateOf(opt: Optimizer): Float32Array[] {
  const seen: Float32Array[] = [];
  opt.placeState((buffer) => (seen.push(buffer), buffer));
  return seen;
}

/** Adam's step (lr 0.1, default betas) for gradient g at step t from zero moments. */
function freshAdamStep(g: number, t: number): number {
  const mHat = (0.1 * g) / (1 - 0.9 ** t), vHat = (0.001 * g * g) / (1 - 0.999 ** t);
  return (-0.1 * mHat) / (Math.sqrt(vHat) + 1e-8);
}

const MAKERS: [string, (ps: Parameter[]) => Optimizer][] = [
  ['SGD', (ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.01 })],
  ['SGD momentum', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['Nesterov', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })],
  ['Adam', (ps) => new Adam(ps, { lr: 0.1, weightDecay: 0.01 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.1 })],
];

describe('optimizers and masks: the kept weights', () => {
  for (const backend of BACKENDS) {
    for (const [name, make] of MAKERS) {
      it(`${name} on ${backend}: kept weights take exactly the unmasked steps; a parameter without a gradient is left alone`, () => {
        const start = [0.5, -1, 2, 0.25, -3, 1.5, 0.75];
        const masked = f32(start), plain = f32(start), idle = f32([1, 2]);
        masked.setMask(Uint8Array.from([1, 0, 1, 1, 0, 1, 1]));
        const maskedOpt = make([masked, idle]), plainOpt = make([plain]);
        for (let step = 0; step < 4; step++) {
          const g = start.map((_, i) => Math.sin(3 * i + step));
          grad(masked, g);
          grad(plain, g.map((v, i) => ([1, 4].includes(i) ? 0 : v))); // what the mask does to the gradient
          withBackend(backend, () => {
            maskedOpt.step();
            plainOpt.step();
          });
          for (const i of [0, 2, 3, 5, 6]) expect(masked.value.data[i], `weight ${i} step ${step}`).toBe(plain.value.data[i]);
        }
        expect(Array.from(idle.value.data)).toEqual([1, 2]);
        expect(idle.grad).toBeNull();
        maskedOpt.zeroGrad();
        expect(masked.grad).toBeNull();
      });
    }
  }
});

describe('optimizer state', () => {
  it('one buffer per parameter for momentum, two for Adam, none for plain SGD; float32, zero at first', () => {
    const counts = [[new SGD([f32([1, 2])], { lr: 0.1 }), 0], [new SGD([f32([1, 2])], { lr: 0.1, momentum: 0.5 }), 1], [new Adam([f32([1, 2])], { lr: 0.1 }), 2]] as const;
    for (const [opt, buffers] of counts) {
      const state = stateOf(opt);
      expect(state).toHaveLength(buffers);
      for (const b of state) expect(Array.from(b)).toEqual([0, 0]);
      for (const b of state) expect(b).toBeInstanceOf(Float32Array);
    }
    // float64 parameters keep their own (float64) state and are not passed on.
    expect(stateOf(new Adam([f64([1, 2])], { lr: 0.1 }))).toHaveLength(0);
  });

  it('state made by the TypeScript update (float64) is converted to float32 once, values kept', () => {
    const p = f32([1, 2, 3]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    grad(p, [1, -2, 0.5]);
    withBackend('js', () => opt.step());
    const [velocity] = stateOf(opt);
    expect(velocity).toBeInstanceOf(Float32Array);
    expect(Array.from(velocity!)).toEqual([1, -2, 0.5]);
    expect(stateOf(opt)[0]).toBe(velocity); // converted once, then kept
  });

  it('buffers placed elsewhere are the ones used from then on (what the SIMD training session relies on)', () => {
    const a = f32([1, 2, 3]), b = f32([1, 2, 3]);
    const moved = new Adam([a], { lr: 0.1 }), stayed = new Adam([b], { lr: 0.1 });
    const copies: Float32Array[] = [];
    for (let step = 0; step < 3; step++) {
      grad(a, [1, -1, 2]);
      grad(b, [1, -1, 2]);
      moved.step();
      stayed.step();
      moved.placeState((buffer) => {
        const copy = Float32Array.from(buffer);
        copies.push(copy);
        return copy;
      });
    }
    expect(Array.from(a.value.data)).toEqual(Array.from(b.value.data));
    expect(stateOf(moved)[0]).toBe(copies[copies.length - 2]);
  });

  it('a resized parameter (neuron pruning) starts again from fresh state', () => {
    const p = f64([1, 2, 3]);
    const opt = new Adam([p], { lr: 0.1 });
    for (let s = 0; s < 3; s++) { grad(p, [1, 1, 1]); opt.step(); }
    p.resize(tensor([1, 3], [2], 'float64'));
    grad(p, [0.5, -0.5]);
    opt.step();
    expect(p.value.data[0]).toBeCloseTo(1 + freshAdamStep(0.5, 4), 9);
    expect(p.value.data[1]).toBeCloseTo(3 + freshAdamStep(-0.5, 4), 9);
    const fresh = f64([1, 2]);
    const forgetful = new Adam([fresh], { lr: 0.1 });
    for (let s = 0; s < 2; s++) { grad(fresh, [1, 1]); forgetful.step(); }
    forgetful.resetState(fresh);
    grad(fresh, [0.5, -0.5]);
    const before = Array.from(fresh.value.data);
    forgetful.step();
    expect(fresh.value.data[0]).toBeCloseTo(before[0]! + freshAdamStep(0.5, 3), 9);
  });

  it('an optimizer with no SIMD update of its own runs its own update on wasm-simd', () => {
    class SignDescent extends Optimizer {
      protected readonly stateBuffers = 0;
      protected update(w: FloatArray, g: FloatArray): void {
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - this.lr * Math.sign(g[i]!);
      }
    }
    const p = f32([1, 1, 1]);
    p.setMask(Uint8Array.from([1, 1, 0]));
    grad(p, [2, -3, 4]);
    withBackend('wasm-simd', () => new SignDescent([p], 0.25).step());
    expect(Array.from(p.value.data)).toEqual([0.75, 1.25, 0]);
  });
});

describe('settings are validated, naming the setting', () => {
  it('Adam, AdamW and SGD', () => {
    const p = [f32([1])];
    for (const [make, message] of [
      [() => new Adam(p, { lr: 0.1, beta1: 1 }), 'beta1 must be in [0, 1), got 1'],
      [() => new Adam(p, { lr: 0.1, beta1: -0.1 }), 'beta1 must be in [0, 1), got -0.1'],
      [() => new Adam(p, { lr: 0.1, beta2: 1 }), 'beta2 must be in [0, 1), got 1'],
      [() => new Adam(p, { lr: 0.1, eps: -1 }), 'eps must be a non-negative finite number, got -1'],
      [() => new Adam(p, { lr: 0.1, eps: Number.POSITIVE_INFINITY }), 'eps must be a non-negative finite number, got Infinity'],
      [() => new AdamW(p, { lr: 0.1, weightDecay: Number.NaN }), 'weightDecay must be a non-negative finite number, got NaN'],
      [() => new SGD(p, { lr: 0.1, weightDecay: -0.5 }), 'weightDecay must be a non-negative finite number, got -0.5'],
      [() => new SGD(p, { lr: 0.1, momentum: 1 }), 'momentum must be in [0, 1), got 1'],
      [() => new SGD(p, { lr: 0.1, nesterov: true }), 'Nesterov momentum needs momentum > 0'],
      [() => new SGD(p, { lr: Number.POSITIVE_INFINITY }), 'learning rate must be a positive finite number, got Infinity'],
    ] as const) {
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(message);
    }
    // The edges that are allowed.
    expect(() => new Adam(p, { lr: 0.1, beta1: 0, beta2: 0.999999, eps: 0, weightDecay: 0 })).not.toThrow();
  });

  it('makeOptimizer builds the named optimizer with the rate, and lists the names when it does not know one', () => {
    const p = [f32([1])];
    const adam = makeOptimizer('adam', p, 0.01);
    expect(adam).toBeInstanceOf(Adam);
    expect(adam).not.toBeInstanceOf(AdamW);
    expect(makeOptimizer('adamw', p, 0.01)).toBeInstanceOf(AdamW);
    const sgd = makeOptimizer('sgd', p, 0.5) as SGD;
    expect(sgd).toBeInstanceOf(SGD);
    expect([sgd.lr, sgd.momentum]).toEqual([0.5, 0.9]);
    expect(adam.lr).toBe(0.01);
    expect(OPTIMIZERS).toEqual(['adam', 'adamw', 'sgd']);
    expect(() => makeOptimizer('rmsprop', p, 0.1)).toThrow(ConfigError);
    expect(() => makeOptimizer('rmsprop', p, 0.1)).toThrow("unknown optimizer 'rmsprop' (expected one of adam, adamw, sgd)");
  });

  it('schedules: their settings, and cosine annealing between two rates', () => {
    expect(() => stepLR(0)).toThrow('stepLR: stepSize must be positive, got 0');
    expect(() => stepLR(2, 0)).toThrow('stepLR: gamma must be positive, got 0');
    expect(() => cosineLR(0)).toThrow('cosineLR: totalEpochs must be positive, got 0');
    expect(() => stepLR(Number.NaN)).toThrow(ConfigError);
    expect(stepLR(2).lrAt(2, 1)).toBeCloseTo(0.1, 12); // default gamma 0.1
    // min + ½(base − min)(1 + cos πt): at t = ½, halfway between the two rates.
    expect(cosineLR(10, 0.1).lrAt(5, 2)).toBeCloseTo(0.1 + 0.5 * 1.9, 12);
    expect(cosineLR(10, 0.1).lrAt(0, 2)).toBeCloseTo(2, 12);
    expect(cosineLR(10, 0.1).lrAt(2.5, 2)).toBeCloseTo(0.1 + 0.5 * 1.9 * (1 + Math.SQRT1_2), 12);
  });
});

describe('Parameter', () => {
  it('masks hold only 0 and 1', () => {
    const p = f32([1, 2, 3]);
    expect(() => p.setMask(Uint8Array.from([1, 2, 1]))).toThrow(ShapeError);
    expect(() => p.setMask(Uint8Array.from([1, 2, 1]))).toThrow('setMask: mask entries must be 0 or 1, got 2 at 1');
    expect(p.mask).toBeNull();
  });

  it('keptCount, removeMask, assign and resize', () => {
    const p = f32([1, 2, 3, 4]);
    expect(p.keptCount()).toBe(4);
    p.setMask(Uint8Array.from([1, 0, 1, 0]));
    expect(p.keptCount()).toBe(2);
    p.assign(new Tensor(Float32Array.from([5, 6, 7, 8]), [4]));
    expect(Array.from(p.value.data)).toEqual([5, 0, 7, 0]); // the mask still holds
    expect(() => p.assign(new Tensor(new Float32Array(3), [3]))).toThrow("assign: shape [3] differs from the parameter's [4]");
    p.removeMask();
    expect(p.mask).toBeNull();
    expect(p.keptCount()).toBe(4);
    p.assign(new Tensor(Float32Array.from([1, 2, 3, 4]), [4])); // no mask: nothing zeroed
    expect(Array.from(p.value.data)).toEqual([1, 2, 3, 4]);
    p.grad = new Tensor(new Float32Array(4), [4]);
    p.resize(new Tensor(Float32Array.from([9, 8, 7]), [3]), Uint8Array.from([0, 1, 1]));
    expect([Array.from(p.value.data), p.grad, p.keptCount()]).toEqual([[0, 8, 7], null, 2]);
    expect(() => p.resize(new Tensor(new Float32Array(2), [2]), new Uint8Array(3))).toThrow('resize: mask length differs from the new value');
    p.resize(new Tensor(Float32Array.from([1, 2]), [2]));
    expect([p.mask, p.keptCount()]).toEqual([null, 2]);
  });
});
