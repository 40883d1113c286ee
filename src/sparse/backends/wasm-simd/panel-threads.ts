import { withMemoryImport } from '../../../wasm/assembler.ts';
import { exportedFunctions, KernelProgram, runChunk } from '../../../wasm/kernel-program.ts';
import { wasmApi, type WasmMemory } from '../../../wasm/runtime.ts';
import type { ThreadContext } from '../../../wasm/thread-pool.ts';
import { threadPool } from '../../../wasm/threads.ts';
import { MAX_CHUNKS } from '../../../wasm/worker-program.ts';
import { applyActivationInPlace } from '../../kernels/activation.ts';
import type { WasmArena } from './arena.ts';
import { kernelModuleBytes, wasmSimdSupported, type WasmKernels } from './kernels.ts';

/*
 * A batch's panels split over threads, for the WebAssembly SIMD models: the float one (model.ts) and the int8
 * one (../wasm-int8/model.ts), each with its own kernel module. The model's memory is a shared
 * WebAssembly.Memory, and every worker of the realm's pool instantiates the same compiled module on it; a
 * predict then runs one KernelProgram chunk per thread, each chunk being the calls one thread would make for
 * a range of panels through every layer (model.runPanels with a recorder in place of the kernels).
 *
 * A sigmoid or tanh layer is not a kernel: the job stops after it, the caller applies the activation to all
 * panels, and the next job goes on from the following layer (after the last layer, to the output rows —
 * elementwise, so before or after the transposition gives the same bits).
 *
 * A plan's programs are recorded once (on the JavaScript heap, freed with the plan) and copied for each
 * predict into one program region of the model's memory, which grows like the activation scratch does.
 */

/** What a model needs to run threads: how many, and the shared-memory module its workers instantiate. */
export interface ThreadSetup {
  readonly threads: number;
  readonly module: object;
  /** The module's exported functions, in export order. */
  readonly names: readonly string[];
  readonly functionIndex: ReadonlyMap<string, number>;
}

/** Chunks per thread a batch's panels are cut into (at most one panel each). */
const CHUNKS_PER_SHARE = 4;

/** The float model's kernels of a panel range. */
export type PanelKernels = Pick<WasmKernels, 'rowsToPanels16' | 'panelsToRows16' | 'densePanel16' | 'spmmPanel16' | 'bsrPanel16' | 'nonFiniteProbe'>;
/** The names of PanelKernels (what a recorder stands in for). */
export const PANEL_KERNELS: readonly (keyof PanelKernels)[] = ['rowsToPanels16', 'panelsToRows16', 'densePanel16', 'spmmPanel16', 'bsrPanel16', 'nonFiniteProbe'];

/** Byte addresses of the float model's buffers in its scratch region (model.ts, probeAt). */
export interface Buffers {
  readonly rowsIn: number;
  readonly bufferA: number;
  readonly bufferB: number;
  readonly rowsOut: number;
  /** One float per sample: ±0 when its input row is finite, NaN otherwise (nonFiniteProbe). */
  readonly probe: number;
}

/** What this file reads of a plan. */
export interface PanelPlan {
  readonly panels: number;
  /** Threads the panels are split over. */
  readonly shares: number;
  readonly steps: readonly { readonly layer: { readonly activation: string } }[];
}

/**
 * The model's side: the calls for layers [from, to) of panels [p0, p1) of a plan, made on `K` (its kernel
 * set: the instance's, or a recorder); `B` is the model's own description of its buffers, passed through.
 */
export interface PanelModel<P extends PanelPlan, K, B> {
  runPanels(K: K, plan: P, at: B, from: number, to: number, p0: number, p1: number): void;
  /** Applies layer l's sigmoid or tanh to every panel (to the output rows when l is the last layer). */
  applyPanelActivation(plan: P, at: B, l: number): void;
}

/** One job: a program (float64 words) and the sigmoid/tanh layer whose activation the caller applies after it. */
interface Segment {
  readonly words: Float64Array;
  readonly chunks: number;
  readonly activationLayer: number | null;
}

/**
 * Runs a model's panels on the realm's threads; see the comment at the top of this file. `K` is the kernel
 * set the model's runPanels calls (the kernels named `kernelNames`, exported by the module of `setup`), `B`
 * the model's buffer addresses.
 */
export class PanelThreads<P extends PanelPlan, K extends object = PanelKernels, B = Buffers> {
  private readonly programs = new WeakMap<P, { scratch: number; segments: Segment[] }>();
  private region = 0;
  private regionBytes = 0;
  private context: ThreadContext | null = null;

  constructor(
    private readonly setup: ThreadSetup,
    private readonly arena: WasmArena,
    private readonly model: PanelModel<P, K, B>,
    private readonly kernels: K,
    private readonly kernelNames: readonly (keyof K & string)[],
  ) {}

  /** Threads a batch may be split over. */
  get threads(): number {
    return this.setup.threads;
  }

  /**
   * Runs the panels of `plan` (buffers `at` in the scratch region at `scratch`) in plan.shares parts.
   * `feedPanels(p0, p1)` writes the input rows of panels [p0, p1): it is called chunk by chunk once the job
   * is published, so the other threads start on the first panels while the caller copies the rest.
   */
  run(plan: P, at: B, scratch: number, feedPanels: (p0: number, p1: number) => void): void {
    let cached = this.programs.get(plan);
    if (cached === undefined || cached.scratch !== scratch) {
      cached = { scratch, segments: this.record(plan, at) };
      this.programs.set(plan, cached);
    }
    const words = cached.segments.reduce((total, s) => total + s.words.length, 0);
    if (8 * words > this.regionBytes) {
      // At least doubling, so a run of ever larger batches allocates at most ~2× the largest program.
      this.regionBytes = Math.max(8 * words, 2 * this.regionBytes);
      this.region = this.arena.alloc(this.regionBytes);
    }
    const pool = threadPool(this.setup.threads);
    const step = panelsPerChunk(plan);
    const feed = (chunk: number): void => feedPanels(chunk * step, Math.min((chunk + 1) * step, plan.panels));
    let address = this.region;
    for (const [index, segment] of cached.segments.entries()) {
      const memory = new Float64Array(this.arena.memory.buffer);
      memory.set(segment.words, address / 8);
      if (pool === null) {
        for (let chunk = 0; chunk < segment.chunks; chunk++) {
          if (index === 0) feed(chunk);
          runChunk(this.callerFunctions(), memory, address / 8, chunk);
        }
      } else {
        if (this.context === null || this.context.pool !== pool) {
          this.context = pool.attach(this.setup.module, this.arena.memory, this.setup.names, this.callerFunctions(), this);
        }
        pool.run(this.context, address, segment.chunks, index === 0 ? { feed } : {});
      }
      if (segment.activationLayer !== null) this.model.applyPanelActivation(plan, at, segment.activationLayer);
      address += 8 * segment.words.length;
    }
  }

  /**
   * The plan's jobs: layers cut after each sigmoid/tanh layer, panels cut into up to CHUNKS_PER_SHARE ranges
   * per thread — smaller chunks cost nothing here (no operand is packed twice) and let a thread that is
   * ahead take over the work of one that woke late.
   */
  private record(plan: P, at: B): Segment[] {
    const { panels, steps } = plan;
    const step = panelsPerChunk(plan);
    const segments: Segment[] = [];
    for (let from = 0; from < steps.length;) {
      let to = from;
      while (to < steps.length && !isScalarActivation(steps[to]!.layer.activation)) to++;
      to = Math.min(to + 1, steps.length); // the segment ends after the first sigmoid/tanh layer (or the last layer)
      const program = new KernelProgram(this.setup.functionIndex);
      const recorder = program.recorder<K>(this.kernelNames);
      for (let p0 = 0; p0 < panels; p0 += step) {
        program.beginChunk();
        this.model.runPanels(recorder, plan, at, from, to, p0, Math.min(p0 + step, panels));
      }
      const words = new Float64Array(program.length);
      program.write(words, 0);
      segments.push({ words, chunks: program.chunks, activationLayer: isScalarActivation(steps[to - 1]!.layer.activation) ? to - 1 : null });
      from = to;
    }
    return segments;
  }

  private callerFunctions(): ThreadContext['functions'] {
    const exports = this.kernels as unknown as Record<string, (...args: number[]) => void>;
    return this.setup.names.map((name) => exports[name]!);
  }
}

/**
 * Layer l's sigmoid or tanh on every panel of a plan — its output slot in bufferA/bufferB, the panels `stride`
 * bytes apart — or on the output rows after the last layer: what a panel model's applyPanelActivation does
 * between two jobs (elementwise, so the same bits as inside the job).
 */
export function activatePanels(
  arena: WasmArena, plan: { readonly panels: number; readonly steps: readonly { readonly layer: { readonly activation: string; readonly outFeatures: number } }[] },
  at: { readonly rowsOut: number; readonly bufferA: number; readonly bufferB: number }, l: number, stride: number,
): void {
  const { activation, outFeatures } = plan.steps[l]!.layer;
  if (activation !== 'sigmoid' && activation !== 'tanh') return;
  const f32 = arena.f32();
  if (l === plan.steps.length - 1) {
    applyActivationInPlace(activation, f32, at.rowsOut / 4, at.rowsOut / 4 + 16 * plan.panels * outFeatures);
    return;
  }
  const output = l % 2 === 0 ? at.bufferB : at.bufferA;
  for (let p = 0; p < plan.panels; p++) {
    const start = (output + p * stride) / 4;
    applyActivationInPlace(activation, f32, start, start + 16 * outFeatures);
  }
}

/** Panels per chunk: up to CHUNKS_PER_SHARE chunks per thread, at least one panel each. */
function panelsPerChunk(plan: PanelPlan): number {
  return Math.ceil(plan.panels / Math.min(plan.panels, CHUNKS_PER_SHARE * plan.shares, MAX_CHUNKS));
}

function isScalarActivation(activation: string): boolean {
  return activation === 'sigmoid' || activation === 'tanh';
}

/** Pages the model's shared memory may grow to (a shared memory must declare a maximum): 1 GiB. */
const SHARED_MAX_PAGES = 16384;
/** Each module compiled for a shared memory, by the bytes of its one-thread form. */
const sharedModules = new WeakMap<Uint8Array, object>();

/**
 * A new instance of the module `bytes` (assembled with a memory import, as kernels.ts and
 * ../wasm-int8/kernels.ts do) on a shared memory, with what a model needs to run `threads` threads on it;
 * null when this engine has no WebAssembly or cannot share memory (the model then uses one thread).
 * `K` is the type of the module's exports.
 */
export function instantiateShared<K>(bytes: Uint8Array, threads: number): { memory: WasmMemory; kernels: K; setup: ThreadSetup } | null {
  const api = wasmApi();
  if (api === undefined) return null;
  try {
    let module = sharedModules.get(bytes);
    if (module === undefined) {
      module = new api.Module(withMemoryImport(bytes, 1, { shared: true, maxPages: SHARED_MAX_PAGES }));
      sharedModules.set(bytes, module);
    }
    const memory = new api.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const kernels = new api.Instance(module, { env: { memory } }).exports as unknown as K;
    const { names, index } = exportedFunctions(api.Module.exports(module));
    return { memory, kernels, setup: { threads, module, names, functionIndex: index } };
  } catch {
    return null;
  }
}

/**
 * A new instance of the float kernels on a shared memory, with what the model needs to run `threads` threads
 * on it; null when this engine has no WebAssembly SIMD or cannot share memory (the model then uses one thread).
 */
export function instantiateSharedKernels(threads: number): { memory: WasmMemory; kernels: WasmKernels; setup: ThreadSetup } | null {
  return wasmSimdSupported() ? instantiateShared<WasmKernels>(kernelModuleBytes(), threads) : null;
}
