import { KERNELS, type CostModel, type KernelName } from './cost-model.ts';
import type { CheckedLayer } from './layers.ts';
import type { InferenceModel } from './model.ts';

/*
 * The contract of an inference backend: a name, whether this JavaScript engine can run it, the strategies
 * it accepts, its cost model, and how it compiles validated layers into a model. compileInference
 * (inference/compile.ts) validates the layers and options and hands them to the backend; it knows nothing
 * of any backend's kernels. A backend lives in one folder under src/sparse/backends/ and is listed once in
 * inference/registry.ts (users can also register their own, or pass one directly).
 */

/**
 * How kernels are chosen: 'auto' = the backend's cost model (deterministic); 'autotune' = time every
 * candidate kernel on the layer at the batch size when a plan is built (adapts to the machine, not
 * deterministic); or one kernel forced for every layer.
 */
export const STRATEGIES = ['auto', 'autotune', ...KERNELS] as const;

/** One of STRATEGIES. */
export type InferenceStrategy = 'auto' | 'autotune' | KernelName;

/** The options a backend receives, defaults filled in and validated by compileInference. */
export interface BackendCompileOptions {
  /** One of the backend's own `strategies`. */
  readonly strategy: InferenceStrategy;
  /** How many batch sizes keep their plans (buffers) at once; the oldest is dropped first. */
  readonly maxPlans: number;
  /**
   * Threads a predict may split a batch over (already checked: it runs here); a backend without threads
   * ignores it. Absent means 1.
   */
  readonly threads?: number;
}

/** An inference backend; see the comment at the top of this file. */
export interface InferenceBackend<M extends InferenceModel = InferenceModel> {
  /** The name users pass as `backend` (and `--backend` on the command line). */
  readonly name: string;
  /** One line for `--help`: what runs the model. */
  readonly description: string;
  /** What `supported()` needs, for the error when it is false (e.g. 'WebAssembly with SIMD'). */
  readonly requirement: string;
  /** Whether this JavaScript engine can run the backend. */
  supported(): boolean;
  /** The strategies it accepts; always includes 'auto'. */
  readonly strategies: readonly InferenceStrategy[];
  /** Its measured constants, used by 'auto' and by report(). */
  readonly costModel: CostModel;
  /** A model of the validated layers (copies the backend may keep). Called only when supported(). */
  compile(layers: readonly CheckedLayer[], options: BackendCompileOptions): M;
  /**
   * A model of a network that starts with convolution layers (`conv`, each with CheckedLayer.conv set) and
   * continues with the fully connected `rest` (possibly none); see inference/conv-model.ts. A backend without it
   * does not run convolutions (compileInference then throws UnsupportedError).
   */
  compileConv?(conv: readonly CheckedLayer[], rest: readonly CheckedLayer[], options: BackendCompileOptions): InferenceModel;
}
