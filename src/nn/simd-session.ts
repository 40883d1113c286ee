import type { Optimizer } from './optim/optimizer.ts';
import type { Parameter } from './parameter.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { ScratchRegion, SimdInstance, TrainingArena } from '../tensor/wasm/index.ts';

/*
 * What `fit` does on the 'wasm-simd' backend to keep copies between JavaScript and WebAssembly memory out of
 * the training loop: for the duration of the run, the parameters and the optimizer state live in the SIMD
 * kernels' memory, and each step's activations and gradients are allocated there too (a ScratchRegion),
 * so every kernel reads and writes them in place. The cost moves to the ends of the run: one copy of the
 * parameters and the state in, one copy out (O(parameters), once per fit).
 *
 * While the run lasts, `p.value` is a tensor whose data is a view of that memory (JavaScript reads and writes
 * it as usual); when it ends, the values are copied back into the tensor each parameter had before, so
 * `p.value` is the same object again. A parameter whose value is replaced during the run (a pruning method
 * swapping weights, neuron pruning resizing them) is moved in again at the next step. Tensors made during a
 * step — activations, `p.grad` — live until the next step starts: copy (`clone()`) what must outlive it.
 * After the run, `p.grad` holds a JavaScript copy of the last gradients.
 *
 * Needs a shared memory (see arena.ts); without one `open` returns null and every kernel call copies.
 */

interface Placement {
  /** The parameter's block in the kernels' memory. */
  readonly resident: Float32Array;
  /** The tensor the parameter held before it was moved in; its data receives the values at the end. */
  original: Tensor;
}

export class SimdTrainingSession {
  private readonly arena: TrainingArena;
  private readonly start: number;
  private readonly placed = new Map<Parameter, Placement>();
  private readonly steps: ScratchRegion;

  private constructor(simd: SimdInstance, private readonly params: readonly Parameter[], private readonly optimizer: Optimizer) {
    this.arena = simd.arena;
    this.start = this.arena.mark();
    this.placeParameters();
    this.optimizer.placeState((buffer) => this.resident(buffer));
    this.steps = this.arena.region();
  }

  /** A session over the model's parameters and the optimizer's state, or null without a shared memory. */
  static open(simd: SimdInstance, params: readonly Parameter[], optimizer: Optimizer): SimdTrainingSession | null {
    return simd.arena.shared ? new SimdTrainingSession(simd, params, optimizer) : null;
  }

  /** A zeroed block of the kernels' memory that lasts until close (the training loop's batch buffers). */
  allocate(length: number): Float32Array {
    return this.arena.persistentF32(length);
  }

  /** Runs one training step: frees the previous step's tensors, moves in anything replaced since, runs `fn`. */
  step<T>(fn: () => T): T {
    for (const p of this.params) if (p.grad !== null && this.arena.holds(p.grad.data)) p.grad = null; // about to be freed
    return this.steps.run(() => {
      this.placeParameters();
      this.optimizer.placeState((buffer) => this.resident(buffer));
      return fn();
    });
  }

  /** Ends the run: parameters, state and the last gradients go back to JavaScript memory; the blocks are freed. */
  close(): void {
    for (const p of this.params) {
      const placement = this.placed.get(p);
      if (placement !== undefined && p.value.data === placement.resident) {
        const { original } = placement;
        if (original.size === placement.resident.length && original.shape.join() === p.value.shape.join()) {
          original.data.set(placement.resident);
          p.value = original;
        } else {
          p.value = new Tensor(heapCopy(placement.resident), p.value.shape);
        }
      }
      if (p.grad !== null && this.arena.holds(p.grad.data)) p.grad = p.grad.clone();
    }
    this.optimizer.placeState((buffer) => (this.arena.holds(buffer) ? heapCopy(buffer) : buffer));
    this.steps.close();
    this.arena.release(this.start);
  }

  /** Moves every float32 parameter value that is not in the kernels' memory into it (its own block). */
  private placeParameters(): void {
    for (const p of this.params) {
      const data = p.value.data;
      if (!(data instanceof Float32Array) || this.arena.holds(data)) continue;
      let placement = this.placed.get(p);
      if (placement === undefined || placement.resident.length !== data.length) {
        placement = { resident: this.arena.persistentF32(data.length), original: p.value };
        this.placed.set(p, placement);
      }
      placement.original = p.value;
      placement.resident.set(data);
      p.value = new Tensor(placement.resident, p.value.shape);
    }
  }

  /** A buffer with the same values in the kernels' memory (the buffer itself if it is there already). */
  private resident(buffer: Float32Array): Float32Array {
    if (this.arena.holds(buffer)) return buffer;
    const copy = this.arena.persistentF32(buffer.length);
    copy.set(buffer);
    return copy;
  }
}

/** A copy on the JavaScript heap (a block copy: slice() goes element by element out of shared memory). */
function heapCopy(x: Float32Array): Float32Array {
  const copy = new Float32Array(x.length);
  copy.set(x);
  return copy;
}
