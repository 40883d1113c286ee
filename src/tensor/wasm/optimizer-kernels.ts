/*
 * The optimizer updates as WebAssembly SIMD (f32x4), hand-assembled: one pass over a parameter, its
 * gradient and its state, with the pruning mask handled as src/nn/optim/optimizer.ts does in TypeScript —
 * the gradient of a pruned weight is zeroed (and stored back) before the update, and the weight and its
 * state are zeroed after it, so momentum can never revive a pruned weight.
 *
 *   adam(n, w, g, m, v, mask, decoupled; lr, stepSize, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps,
 *        weightDecay)
 *       decoupled = 0 (Adam): g ← g + weightDecay·w; decoupled = 1 (AdamW): w ← w − (lr·weightDecay)·w;
 *       m ← β1·m + (1−β1)·g;  v ← β2·v + ((1−β2)·g)·g;  w ← w − (stepSize·m) / (√v + eps).
 *       Adam.update's w − (lr/c1)·m / (√v/√c2 + ε), with c_i = 1 − β_iᵗ, is the same number as this with
 *       stepSize = (lr/c1)·√c2 and eps = ε·√c2: one division per element instead of two (the update is
 *       bound by its divisions and square roots, not by memory, for layers that fit in the L2 cache).
 *   sgd(n, w, g, velocity, mask, nesterov; lr, momentum, weightDecay)
 *       d ← g + weightDecay·w; with velocity (≠ 0): u ← momentum·u + d, d ← nesterov ? d + momentum·u : u;
 *       w ← w − lr·d.
 * `mask` is the byte address of n bytes (0 = pruned), or 0 for an unmasked parameter. State and weights are
 * float32 (the TypeScript optimizers keep float64 state), so results agree with them to float32 rounding.
 * O(n): each element is read and written once; the pass is memory-bound.
 */
import { F32, FunctionBuilder, I32, op, V128, type ValueType } from '../../wasm/assembler.ts';
import { increment, whileLoop } from '../../wasm/emit.ts';

/** The arithmetic of one element (f32) or of four (f32x4), so each update is written once for both. */
interface Arithmetic {
  vector: boolean;
  add: number[];
  sub: number[];
  mul: number[];
  div: number[];
  sqrt: number[];
  load: number[];
  store: number[];
}
const VECTOR: Arithmetic = { vector: true, add: op.f32x4Add, sub: op.f32x4Sub, mul: op.f32x4Mul, div: op.f32x4Div, sqrt: op.f32x4Sqrt, load: op.v128Load(0), store: op.v128Store(0) };
const SCALAR: Arithmetic = { vector: false, add: op.f32Add, sub: op.f32Sub, mul: op.f32Mul, div: op.f32Div, sqrt: op.f32Sqrt, load: op.f32Load(0), store: op.f32Store(0) };

/** i32x4 lanes that pick byte l of a splatted 32-bit word in lane l. */
const BYTE_OF_LANE = [0xff, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0xff];

/**
 * The loop shared by both updates: over 4-element vectors then single elements, each with its own locals
 * (v128 or f32). `body(a, at, keep)` emits one update at byte offset `at`; `keep` is null for an unmasked
 * parameter, else a local holding all-ones (vector lanes / i32 1) where the weight is kept.
 */
function elementLoop(f: FunctionBuilder, n: number, mask: number, body: (a: Arithmetic, at: number, keep: number | null) => void): void {
  const at = f.local(I32), vectorEnd = f.local(I32), end = f.local(I32);
  const keepVector = f.local(V128), keepScalar = f.local(I32);
  f.emit(op.get(n), op.i32(2), op.i32Shl, op.tee(end), op.i32(-16), op.i32And, op.set(vectorEnd));
  for (const masked of [true, false]) {
    f.emit(op.get(mask), ...(masked ? [] : [op.i32Eqz]), op.if, op.i32(0), op.set(at));
    whileLoop(f, () => f.emit(op.get(at), op.get(vectorEnd), op.i32GeU), () => {
      if (masked) {
        // the 4 mask bytes of these elements, one per lane, as lane masks (byte ≠ 0)
        f.emit(op.get(mask), op.get(at), op.i32(2), op.i32ShrU, op.i32Add, op.v128Load32Splat(0));
        f.emit(op.v128Const(BYTE_OF_LANE), op.v128And, op.v128Zero, op.i32x4Ne, op.set(keepVector));
      }
      body(VECTOR, at, masked ? keepVector : null);
      increment(f, at, 16);
    });
    whileLoop(f, () => f.emit(op.get(at), op.get(end), op.i32GeU), () => {
      if (masked) f.emit(op.get(mask), op.get(at), op.i32(2), op.i32ShrU, op.i32Add, op.i32Load8U(0), op.set(keepScalar));
      body(SCALAR, at, masked ? keepScalar : null);
      increment(f, at, 4);
    });
    f.emit(op.end);
  }
}

/** Emits `local = keep ? value : 0` for the value on the stack (a no-op without a mask). */
function maskValue(f: FunctionBuilder, a: Arithmetic, keep: number | null): void {
  if (keep === null) return;
  if (a.vector) f.emit(op.get(keep), op.v128And);
  else f.emit(op.f32zero, op.get(keep), op.select);
}

/** Locals for the per-element values, one set per arithmetic (v128 and f32). */
function valueLocals(f: FunctionBuilder, names: readonly string[]): Record<'vector' | 'scalar', Record<string, number>> {
  const make = (type: ValueType): Record<string, number> => Object.fromEntries(names.map((name) => [name, f.local(type)]));
  return { vector: make(V128), scalar: make(F32) };
}

/** The f32 parameters, and a v128 local with each splatted to all lanes. */
function constants(f: FunctionBuilder, params: Record<string, number>): Record<'vector' | 'scalar', Record<string, number>> {
  const vector: Record<string, number> = {};
  for (const [name, index] of Object.entries(params)) {
    vector[name] = f.local(V128);
    f.emit(op.get(index), op.f32x4Splat, op.set(vector[name]!));
  }
  return { vector, scalar: params };
}

function adam(): FunctionBuilder {
  const names = ['lr', 'stepSize', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'eps', 'weightDecay'];
  const f = new FunctionBuilder('adam', 15, [I32, I32, I32, I32, I32, I32, I32, ...names.map((): ValueType => F32)]);
  const [n, w, g, m, v, mask, decoupled] = [0, 1, 2, 3, 4, 5, 6];
  const c = constants(f, Object.fromEntries(names.map((name, i) => [name, 7 + i])));
  const x = valueLocals(f, ['w', 'g', 'm', 'v', 'decay']);
  // lr·weightDecay, rounded to float32 once (TypeScript forms it in float64 per element).
  f.emit(op.get(c.scalar['lr']!), op.get(c.scalar['weightDecay']!), op.f32Mul, op.tee(x.scalar['decay']!), op.f32x4Splat, op.set(x.vector['decay']!));
  // Adam adds the L2 term to the gradient, AdamW decays the weight itself: one loop for each, so the
  // choice is not made per element.
  for (const isDecoupled of [true, false]) {
    f.emit(op.get(decoupled), ...(isDecoupled ? [] : [op.i32Eqz]), op.if);
    elementLoop(f, n, mask, (a, at, keep) => {
      const k = a.vector ? c.vector : c.scalar;
      const l = a.vector ? x.vector : x.scalar;
      const get = (name: string): number[] => op.get((k[name] ?? l[name])!);
      const address = (array: number): void => f.emit(op.get(array), op.get(at), op.i32Add);
      address(w);
      f.emit(a.load, op.set(l['w']!));
      address(g);
      f.emit(a.load);
      maskValue(f, a, keep);
      f.emit(op.set(l['g']!));
      if (keep !== null) {
        address(g);
        f.emit(get('g'), a.store); // the masked gradient is visible afterwards, as in TypeScript
      }
      if (isDecoupled) f.emit(get('w'), get('decay'), get('w'), a.mul, a.sub, op.set(l['w']!));
      else f.emit(get('g'), get('weightDecay'), get('w'), a.mul, a.add, op.set(l['g']!));
      f.emit(get('beta1'));
      address(m);
      f.emit(a.load, a.mul, get('oneMinusBeta1'), get('g'), a.mul, a.add, op.set(l['m']!));
      f.emit(get('beta2'));
      address(v);
      f.emit(a.load, a.mul, get('oneMinusBeta2'), get('g'), a.mul, get('g'), a.mul, a.add, op.set(l['v']!));
      address(m);
      f.emit(get('m'));
      maskValue(f, a, keep);
      f.emit(a.store);
      address(v);
      f.emit(get('v'));
      maskValue(f, a, keep);
      f.emit(a.store);
      address(w);
      f.emit(get('w'), get('stepSize'), get('m'), a.mul, get('v'), a.sqrt, get('eps'), a.add, a.div, a.sub);
      maskValue(f, a, keep);
      f.emit(a.store);
    });
    f.emit(op.end);
  }
  return f;
}

function sgd(): FunctionBuilder {
  const names = ['lr', 'momentum', 'weightDecay'];
  const f = new FunctionBuilder('sgd', 9, [I32, I32, I32, I32, I32, I32, ...names.map((): ValueType => F32)]);
  const [n, w, g, velocity, mask, nesterov] = [0, 1, 2, 3, 4, 5];
  const c = constants(f, Object.fromEntries(names.map((name, i) => [name, 6 + i])));
  const x = valueLocals(f, ['w', 'd', 'u']);
  elementLoop(f, n, mask, (a, at, keep) => {
    const k = a.vector ? c.vector : c.scalar;
    const l = a.vector ? x.vector : x.scalar;
    const get = (name: string): number[] => op.get((k[name] ?? l[name])!);
    const address = (array: number): void => f.emit(op.get(array), op.get(at), op.i32Add);
    address(w);
    f.emit(a.load, op.set(l['w']!));
    address(g);
    f.emit(a.load);
    maskValue(f, a, keep);
    f.emit(op.set(l['d']!));
    if (keep !== null) {
      address(g);
      f.emit(get('d'), a.store);
    }
    f.emit(get('d'), get('weightDecay'), get('w'), a.mul, a.add, op.set(l['d']!));
    f.emit(op.get(velocity), op.if);
    {
      address(velocity);
      f.emit(get('momentum'), op.get(velocity), op.get(at), op.i32Add, a.load, a.mul, get('d'), a.add, op.tee(l['u']!));
      maskValue(f, a, keep);
      f.emit(a.store);
      // Nesterov looks ahead along the (unmasked) new velocity; plain momentum steps along it.
      f.emit(get('d'), get('momentum'), get('u'), a.mul, a.add, get('u'), op.get(nesterov), op.select, op.set(l['d']!));
    }
    f.emit(op.end);
    address(w);
    f.emit(get('w'), get('lr'), get('d'), a.mul, a.sub);
    maskValue(f, a, keep);
    f.emit(a.store);
  });
  return f;
}

/** The kernels of this file, in module order. */
export function optimizerKernels(): FunctionBuilder[] {
  return [adam(), sgd()];
}
