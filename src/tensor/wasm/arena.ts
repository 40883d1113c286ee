import { UnsupportedError } from '../../errors.ts';
import type { WasmMemory } from '../../wasm/runtime.ts';

/*
 * The memory of the training kernels and who owns which part of it. Tensors of a training step can live
 * here ("resident"): their Float32Array is a view of the module's memory, so the kernels read and write them
 * in place and JavaScript sees the same numbers with no copy. Anything else is copied in for one kernel call.
 *
 *   [64, …)          persistent blocks: parameters, optimizer state (a training session's lifetime)
 *   … scratch …      a training step's activations and gradients (a ScratchRegion's lifetime)
 *   … transient …    copies of non-resident operands and GEMM packing buffers (one kernel call)
 *
 * All three are one bump allocator: `top` only moves up while something is alive and is reset when its
 * owner ends. A persistent block allocated while a step runs sits above that step's scratch; the scratch
 * below it becomes a hole until the session ends (rare: a resized parameter, new optimizer state).
 *
 * Residency needs a *shared* memory: growing a non-shared WebAssembly.Memory detaches every view of it,
 * which would empty live tensors, while a shared one (SharedArrayBuffer) keeps old views valid. Without
 * shared memory (a browser page that is not cross-origin isolated) nothing is resident: every kernel call
 * copies its operands in and its results out — correct, only slower.
 */

const ALIGN = 64; // a cache line; v128 loads need only 16
const PAGE = 65536;

export class TrainingArena {
  private top = ALIGN; // address 0 stays unused, so a forgotten address shows up as wrong output, not data
  private persistentTop = ALIGN;
  private scratchOn = false;
  /** Every ArrayBuffer object the memory has exposed (a shared memory exposes a new one per growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private f32View = new Float32Array(0);
  private u8View = new Uint8Array(0);

  constructor(readonly memory: WasmMemory, readonly shared: boolean) {
    this.refresh();
  }

  /** Bytes in use (up to the highest live block). */
  get bytes(): number {
    return this.top;
  }

  private refresh(): void {
    const buffer = this.memory.buffer;
    if (this.f32View.buffer !== buffer) {
      this.buffers.add(buffer);
      this.f32View = new Float32Array(buffer);
      this.u8View = new Uint8Array(buffer);
    }
  }

  /** The whole memory as float32 (re-taken after a growth). */
  f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  /** The whole memory as bytes (re-taken after a growth). */
  u8(): Uint8Array {
    this.refresh();
    return this.u8View;
  }

  /** Whether `x` is a view of this memory, so kernels can use it in place at x.byteOffset. */
  holds(x: ArrayBufferView): boolean {
    this.refresh();
    return this.buffers.has(x.buffer);
  }

  /** The byte address of `bytes` fresh bytes (not zeroed), 64-byte aligned; grows the memory when needed. */
  alloc(bytes: number): number {
    const start = this.top;
    const end = start + Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    const missing = end - this.memory.buffer.byteLength;
    if (missing > 0) {
      try {
        this.memory.grow(Math.ceil(missing / PAGE));
      } catch (error) {
        throw new UnsupportedError(`the WebAssembly training memory cannot grow to ${Math.ceil(end / 2 ** 20)} MiB (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    this.top = end;
    return start;
  }

  /**
   * A float32 view (zeroed when `zeroed`, else holding old values) that lives until the current scratch
   * region's next step, or null when no region is running or the memory cannot hold resident tensors: the
   * caller then allocates on the JavaScript heap.
   */
  scratchF32(length: number, zeroed: boolean): Float32Array | null {
    if (!this.scratchOn) return null;
    const address = this.alloc(4 * length); // first: it may grow the memory, which gives a new buffer
    const view = new Float32Array(this.memory.buffer, address, length);
    this.refresh();
    return zeroed ? view.fill(0) : view;
  }

  /** A zeroed float32 view that lives until `release` of a mark taken before it (a training session). */
  persistentF32(length: number): Float32Array {
    if (!this.shared) throw new UnsupportedError('resident tensors need a shared WebAssembly.Memory');
    const address = this.alloc(4 * length);
    const view = new Float32Array(this.memory.buffer, address, length);
    this.persistentTop = this.top;
    this.refresh();
    return view.fill(0);
  }

  /** A mark for `release`: everything allocated after it is freed then. */
  mark(): number {
    return this.top;
  }

  /** Frees every block allocated since `mark` (persistent ones too); their views must not be used again. */
  release(mark: number): void {
    this.top = mark;
    this.persistentTop = Math.min(this.persistentTop, mark);
  }

  /** A region for the scratch tensors of a sequence of steps (see ScratchRegion). */
  region(): ScratchRegion {
    return new ScratchRegion(this, this.top);
  }

  /** @internal Used by ScratchRegion: drop scratch back to `mark` (not below a persistent block). */
  resetTo(mark: number): void {
    this.top = Math.max(mark, this.persistentTop);
  }

  /** @internal Used by ScratchRegion: whether `allocate` may hand out scratch views; returns the old value. */
  setScratch(on: boolean): boolean {
    const previous = this.scratchOn;
    this.scratchOn = on && this.shared;
    return previous;
  }

  /**
   * Runs one kernel call: `fn` gets a KernelCall that places operands (in place when resident, else
   * copied into transient memory), and the results are copied back to non-resident outputs afterwards.
   */
  call<T>(fn: (call: KernelCall) => T): T {
    const mark = this.top;
    const call = new KernelCall(this);
    try {
      const result = fn(call);
      call.copyOut();
      return result;
    } finally {
      this.top = Math.max(mark, this.persistentTop);
    }
  }
}

/**
 * The scratch tensors of a sequence of steps (training steps, evaluation batches): `run(step)` first frees
 * what the previous step allocated, then lets `allocate` put float32 tensors here while the step runs. The
 * last step's tensors stay valid after `run` returns, until the next `run` or `close`.
 */
export class ScratchRegion {
  constructor(private readonly arena: TrainingArena, private readonly start: number) {}

  run<T>(step: () => T): T {
    this.arena.resetTo(this.start);
    const previous = this.arena.setScratch(true);
    try {
      return step();
    } finally {
      this.arena.setScratch(previous);
    }
  }

  /** Frees the last step's tensors. */
  close(): void {
    this.arena.resetTo(this.start);
  }
}

type View = Float32Array | Uint8Array;

/** Operand placement for one kernel call (see TrainingArena.call). */
export class KernelCall {
  private readonly pending: { address: number; target: Float32Array; length: number }[] = [];

  constructor(private readonly arena: TrainingArena) {}

  /** The byte address of x[offset], where the kernel reads x[offset .. offset + length). */
  input(x: View, offset: number, length: number): number {
    const size = x.BYTES_PER_ELEMENT;
    if (this.arena.holds(x)) return x.byteOffset + size * offset;
    const address = this.arena.alloc(size * length);
    this.arena.u8().set(new Uint8Array(x.buffer, x.byteOffset + size * offset, size * length), address);
    return address;
  }

  /**
   * The byte address of x[offset], where the kernel writes x[offset .. offset + length) (and reads it
   * first when `read`; a kernel that skips some elements of the range must read them, or a copied-back
   * range would clobber them).
   */
  output(x: Float32Array, offset: number, length: number, read: boolean): number {
    if (this.arena.holds(x)) return x.byteOffset + 4 * offset;
    const address = read ? this.input(x, offset, length) : this.arena.alloc(4 * length);
    this.pending.push({ address, target: x.subarray(offset, offset + length), length });
    return address;
  }

  /** The byte address of `bytes` bytes of scratch for this call only. */
  scratch(bytes: number): number {
    return this.arena.alloc(bytes);
  }

  /** @internal Copies the results of non-resident outputs back (TrainingArena.call does it). */
  copyOut(): void {
    const memory = this.arena.f32();
    for (const { address, target, length } of this.pending) target.set(memory.subarray(address / 4, address / 4 + length));
  }
}
