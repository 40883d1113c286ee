import type { WasmMemory } from '../../../wasm/runtime.ts';

/*
 * A bump allocator over one WebAssembly.Memory: the wasm backend places weights at compile time and
 * activation buffers when it builds a plan, and never frees (a model's memory lives as long as the model).
 * Growing the memory replaces its ArrayBuffer, so typed-array views are always taken through `f32()` /
 * `i32()`, which re-create them only after a growth.
 */
export class WasmArena {
  private top = 64; // address 0 stays unused, so a forgotten address shows up as wrong output, not as data
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;

  constructor(readonly memory: WasmMemory) {
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
  }

  /** Bytes in use. */
  get bytes(): number {
    return this.top;
  }

  /** The byte address of `bytes` fresh zeroed bytes, 64-byte aligned (a cache line; v128 loads need 16). */
  alloc(bytes: number): number {
    const start = this.top;
    this.top += Math.ceil(Math.max(bytes, 1) / 64) * 64;
    const missing = this.top - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / 65536));
    return start;
  }

  /**
   * Copies rows [s0, s1) of the row-major `x` (`features` per row; float64 is rounded to float32) into the
   * same rows of the float32 rows at byte address `rows`: a model's input, all at once or chunk by chunk.
   */
  copyRows(x: Float32Array | Float64Array, rows: number, features: number, s0: number, s1: number): void {
    this.f32().set(x.subarray(s0 * features, s1 * features), rows / 4 + s0 * features);
  }

  /** A copy of `data` in the memory; returns its byte address. */
  allocF32(data: ArrayLike<number>): number {
    const address = this.alloc(4 * data.length);
    this.f32().set(data, address / 4);
    return address;
  }

  /** A copy of `data` as int32 in the memory; returns its byte address. */
  allocI32(data: ArrayLike<number>): number {
    const address = this.alloc(4 * data.length);
    this.i32().set(data, address / 4);
    return address;
  }

  /** A float32 view of the whole memory, current after any growth. */
  f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** A byte view of the whole memory, current after any growth. */
  u8(): Uint8Array {
    if (this.u8View.buffer !== this.memory.buffer) this.u8View = new Uint8Array(this.memory.buffer);
    return this.u8View;
  }

  /** An int32 view of the whole memory, current after any growth. */
  i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.i32View = new Int32Array(this.memory.buffer);
    return this.i32View;
  }
}

/**
 * A CSR matrix placed in the arena, in the form the sparse kernels read (kernels.ts): byte addresses of the
 * row pointers, of the column indices pre-scaled for spmmPanel16 (col·64) and for spmv (col·4), and of the
 * values.
 */
export interface PlacedCsr {
  indptr: number;
  panelOffsets: number;
  vectorOffsets: number;
  values: number;
}

/** Copies `csr` into the arena in the form of PlacedCsr; returns the addresses. */
export function placeCsr(arena: WasmArena, csr: { indptr: Int32Array; indices: Int32Array; values: Float32Array }): PlacedCsr {
  return {
    indptr: arena.allocI32(csr.indptr),
    panelOffsets: arena.allocI32(csr.indices.map((c) => c * 64)),
    vectorOffsets: arena.allocI32(csr.indices.map((c) => c * 4)),
    values: arena.allocF32(csr.values),
  };
}

/** A SELL-4 matrix (sell.ts) placed in the arena: the byte addresses sellMatvec takes. */
export interface PlacedSell {
  nSlices: number;
  slicePtr: number;
  rowOffsets: number;
  slots: number;
}

/** Copies a SELL-4 matrix into the arena; returns the addresses. */
export function placeSell(arena: WasmArena, sell: { nSlices: number; slicePtr: Int32Array; rowOffsets: Int32Array; slots: Uint8Array }): PlacedSell {
  const slots = arena.alloc(sell.slots.length);
  arena.u8().set(sell.slots, slots);
  return { nSlices: sell.nSlices, slicePtr: arena.allocI32(sell.slicePtr), rowOffsets: arena.allocI32(sell.rowOffsets), slots };
}

/**
 * A 4×1 BSR matrix placed in the arena, in the form the BSR kernels read (kernels-bsr.ts): block-row
 * pointers, column indices pre-scaled for bsrPanel16 (col·64) and for bsrMatvec (col·4), and the values.
 */
export interface PlacedBsr {
  indptr: number;
  panelOffsets: number;
  vectorOffsets: number;
  values: number;
}

/** Copies `bsr` into the arena in the form of PlacedBsr; returns the addresses. */
export function placeBsr(arena: WasmArena, bsr: { indptr: Int32Array; indices: Int32Array; values: Float32Array }): PlacedBsr {
  return {
    indptr: arena.allocI32(bsr.indptr),
    panelOffsets: arena.allocI32(bsr.indices.map((c) => c * 64)),
    vectorOffsets: arena.allocI32(bsr.indices.map((c) => c * 4)),
    values: arena.allocF32(bsr.values),
  };
}
