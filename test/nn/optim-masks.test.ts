/**
 * Pruning and optimizer state, on both backends (on 'wasm-simd' float32 parameters take the SIMD optimizer
 * kernels of src/tensor/wasm/optimizer-kernels.ts): momentum built up before pruning must not move a pruned
 * weight, and a weight that is regrown (setMask with allowRegrow, as RigL and DNS do) must restart from zero
 * *state* as well as from a zero value — its first step after regrowth is the first step of a fresh
 * optimizer at the current step count. Without the zeroing of pruned state, the regrown weight would
 * inherit the momentum it had before it was pruned.
 */
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, Parameter, SGD } from '../../src/nn/index.ts';
import type { Optimizer } from '../../src/nn/optim/optimizer.ts';
import { BACKENDS, withBackend } from '../../src/tensor/backend.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

// 7 weights: indices 0–3 run in the SIMD kernels' vector loop, 4–6 in their scalar tail; one pruned in each.
const N = 7;
const PRUNED = [1, 5];
const LR = 0.1;

interface Case {
  name: string;
  make: (p: Parameter) => Optimizer;
  /** The step of a weight at 0 with zero state, gradient g, at step `t` (what a fresh optimizer does). */
  freshStep: (g: number, t: number) => number;
}

const adamFresh = (g: number, t: number): number => {
  const m = 0.1 * g, v = 0.001 * g * g;
  return -((LR / (1 - 0.9 ** t)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
};

const CASES: Case[] = [
  { name: 'SGD with momentum', make: (p) => new SGD([p], { lr: LR, momentum: 0.9, weightDecay: 0.01 }), freshStep: (g) => -LR * g },
  { name: 'SGD with Nesterov momentum', make: (p) => new SGD([p], { lr: LR, momentum: 0.9, nesterov: true }), freshStep: (g) => -LR * (g + 0.9 * g) },
  { name: 'Adam', make: (p) => new Adam([p], { lr: LR, weightDecay: 0.01 }), freshStep: adamFresh },
  // AdamW decays the weight itself, which is 0 when regrown: the same step as Adam without decay.
  { name: 'AdamW', make: (p) => new AdamW([p], { lr: LR, weightDecay: 0.1 }), freshStep: adamFresh },
];

function stepWith(backend: (typeof BACKENDS)[number], opt: Optimizer, p: Parameter, g: readonly number[]): void {
  p.grad = new Tensor(Float32Array.from(g), [N]);
  withBackend(backend, () => opt.step());
}

const ONES = Array.from({ length: N }, () => 1);
const maskWithout = (pruned: readonly number[]): Uint8Array => Uint8Array.from({ length: N }, (_, i) => (pruned.includes(i) ? 0 : 1));

describe('pruned optimizer state: pruned weights stay put, regrown weights start from zero state', () => {
  for (const backend of BACKENDS) {
    for (const c of CASES) {
      it(`${c.name} on ${backend}`, () => {
        const p = new Parameter(new Tensor(Float32Array.from({ length: N }, (_, i) => 0.5 + i), [N]));
        const opt = c.make(p);
        for (let s = 0; s < 4; s++) stepWith(backend, opt, p, ONES); // momentum / moments built up everywhere

        p.setMask(maskWithout(PRUNED));
        for (let s = 0; s < 3; s++) {
          const before = Array.from(p.value.data);
          stepWith(backend, opt, p, ONES);
          for (const i of PRUNED) {
            expect(p.value.data[i], `pruned weight ${i} after step ${s + 1} with momentum`).toBe(0);
            expect(p.grad!.data[i], `pruned gradient ${i}`).toBe(0);
          }
          // The kept weights do move (the steps are real).
          for (let i = 0; i < N; i++) if (!PRUNED.includes(i)) expect(p.value.data[i]).not.toBe(before[i]);
        }

        p.setMask(maskWithout([]), { allowRegrow: true });
        for (const i of PRUNED) expect(p.value.data[i]).toBe(0);
        const g = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 0.5 : -2));
        stepWith(backend, opt, p, g);
        const t = opt.stepCount;
        expect(t).toBe(8);
        for (const i of PRUNED) {
          // float32 weights (and float32 state on wasm-simd): agreement to float32 rounding.
          expect(p.value.data[i], `regrown weight ${i}: the first step of a fresh optimizer`).toBeCloseTo(c.freshStep(g[i]!, t), 6);
        }
      });
    }
  }
});
