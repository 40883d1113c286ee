/*
 * A job for worker threads, written down as data: a list of kernel calls (exported WebAssembly functions and
 * their arguments) cut into chunks, encoded as float64 words in the module's shared memory. Any thread that
 * has instantiated the module on that memory can run any chunk (thread-pool.ts hands them out), and a chunk
 * runs exactly the calls the single-thread code would make for that part of the work: the arguments are
 * the same numbers (float64 holds every i32 and f32 argument exactly), so the results are the same bits.
 *
 * Layout, in float64 words from the program's address:
 *   [0]              C, the number of chunks
 *   [1 + c]          where chunk c's calls start (in words from the program's address), c = 0 … C − 1
 *   [1 + C]          where the last chunk's calls end
 *   then each call   function index (in the module's export order), argument count, the arguments
 *
 * The worker's copy of `runChunk` is in worker-program.ts (a string: workers get source, not imports).
 */

/** The calls of one job, recorded chunk by chunk, then written into memory for the threads to run. */
export class KernelProgram {
  private readonly calls: number[] = [];
  private readonly starts: number[] = [];

  /** @param functionIndex the index of each exported function name, in the module's export order. */
  constructor(private readonly functionIndex: ReadonlyMap<string, number>) {}

  /** Starts a new chunk: the calls recorded from now on belong to it. */
  beginChunk(): void {
    this.starts.push(this.calls.length);
  }

  /** Records one call of the exported function `name` in the current chunk. */
  call(name: string, args: ArrayLike<number>): void {
    const index = this.functionIndex.get(name);
    if (index === undefined) throw new RangeError(`KernelProgram: the module exports no function '${name}'`);
    if (this.starts.length === 0) throw new RangeError('KernelProgram: call beginChunk() before recording calls');
    this.calls.push(index, args.length);
    for (let i = 0; i < args.length; i++) this.calls.push(args[i]!);
  }

  /**
   * An object with one method per name that records a call instead of making it, typed like the kernels it
   * stands in for: code written against the kernels runs unchanged to record a chunk.
   */
  recorder<K extends object>(names: readonly (keyof K & string)[]): K {
    const recorder: Record<string, (...args: number[]) => void> = {};
    for (const name of names) recorder[name] = (...args: number[]) => this.call(name, args);
    return recorder as unknown as K;
  }

  /** How many chunks were begun. */
  get chunks(): number {
    return this.starts.length;
  }

  /** The program's size in float64 words (allocate 8·length bytes, 8-byte aligned). */
  get length(): number {
    return 2 + this.starts.length + this.calls.length;
  }

  /** Writes the program at word `at` of `words` (a view of the module's memory). */
  write(words: Float64Array, at: number): void {
    const header = 2 + this.starts.length;
    words[at] = this.starts.length;
    this.starts.forEach((start, c) => (words[at + 1 + c] = header + start));
    words[at + 1 + this.starts.length] = header + this.calls.length;
    words.set(this.calls, at + header);
  }
}

/** Reused argument list of runChunk (a call allocates nothing). */
const args: number[] = [];

/**
 * Runs chunk `chunk` of the program at word `base` of `words`, calling `functions` (the module's exports
 * in export order). Throws whatever a kernel throws (a trap is a WebAssembly.RuntimeError).
 */
export function runChunk(functions: readonly ((...args: number[]) => void)[], words: Float64Array, base: number, chunk: number): void {
  const end = base + words[base + 2 + chunk]!;
  for (let at = base + words[base + 1 + chunk]!; at < end;) {
    const fn = functions[words[at]!]!;
    const count = words[at + 1]!;
    args.length = count;
    for (let i = 0; i < count; i++) args[i] = words[at + 2 + i]!;
    fn(...args);
    at += 2 + count;
  }
}

/** The index of every exported function of `module`, in export order (what KernelProgram and workers use). */
export function exportedFunctions(exports: readonly { name: string; kind: string }[]): { names: string[]; index: Map<string, number> } {
  const names = exports.filter((e) => e.kind === 'function').map((e) => e.name);
  return { names, index: new Map(names.map((name, i) => [name, i])) };
}
