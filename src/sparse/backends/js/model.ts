import { isFloat32Array } from '../../../tensor/typed-array.ts';
import type { FloatArray } from '../../../tensor/tensor.ts';
import type { InferenceStrategy } from '../../inference/backend.ts';
import { chooseKernel, type KernelName } from '../../inference/cost-model.ts';
import { CompiledNetwork, type Plan, type PlanStep } from '../../inference/model.ts';
import { flagNonFiniteSums } from '../../kernels/non-finite.ts';
import { panelViews, panelWidths, panelsToRows, rowsToPanels } from '../../layout.ts';
import { autotune } from './autotune.ts';
import { JS_COST_MODEL } from './cost-model.ts';
import { denseWeight, runDense, runSparse, type JsLayer } from './layer.ts';

/*
 * The TypeScript backend's model. Per layer and batch size it runs the dense kernel (gemmNT on row-major
 * activations) or a sparse one (CSR or 4×1 BSR on panel-layout activations, layout.ts), keeps activations
 * in the layout the next kernel wants, and converts only where the layout changes (at most once at the input
 * and once at the output for an all-sparse network). One kernel runs a layer for the whole batch.
 */

interface JsStep extends PlanStep<JsLayer> {
  /** Dense steps: row-major input when the previous layer left panels (else null: read the previous output). */
  readonly rowsIn: Float32Array | null;
  /** Sparse steps: panel input when the previous layer left rows (else null). */
  readonly panelsIn: Float64Array | null;
  readonly output: Float32Array | Float64Array;
  /** Sparse steps: one input and one output view per panel. */
  readonly xViews: Float64Array[];
  readonly yViews: Float64Array[];
}

interface JsPlan extends Plan<JsStep> {
  /** The panel widths the batch is cut into (layout.ts). */
  readonly widths: number[];
  /** Σ of each sample's inputs, when the first layer runs sparse (its layout change sums them for free). */
  readonly inputSums: Float64Array;
}

/** A compiled network run by the TypeScript kernels; see compileInference. */
export class SparseModel extends CompiledNetwork<JsPlan> {
  readonly backend = 'js';
  private readonly layers: JsLayer[];

  /** @internal use compileInference */
  constructor(layers: JsLayer[], strategy: InferenceStrategy, maxPlans: number) {
    super(layers[0]!.inFeatures, layers[layers.length - 1]!.outFeatures, strategy, JS_COST_MODEL, maxPlans);
    this.layers = layers;
  }

  protected buildPlan(batch: number): JsPlan {
    const widths = panelWidths(batch);
    const output = new Float32Array(batch * this.outFeatures);
    const steps: JsStep[] = [];
    let previous: Float32Array | Float64Array | null = null; // null = the caller's x (row-major)
    let layout: 'rows' | 'panels' = 'rows';
    this.layers.forEach((layer, index) => {
      const kernel = this.pickKernel(layer, batch, widths);
      const last = index === this.layers.length - 1;
      if (kernel === 'dense') {
        denseWeight(layer); // built now, so predict never allocates
        const rowsIn = layout === 'panels' ? new Float32Array(batch * layer.inFeatures) : null;
        const out = last ? output : new Float32Array(batch * layer.outFeatures);
        steps.push({ layer, kernel, rowsIn, panelsIn: null, output: out, xViews: [], yViews: [] });
        previous = out;
        layout = 'rows';
      } else {
        const panelsIn = layout === 'rows' ? new Float64Array(batch * layer.inFeatures) : null;
        const input = (panelsIn ?? previous) as Float64Array;
        const out = new Float64Array(batch * layer.outFeatures);
        steps.push({
          layer, kernel, rowsIn: null, panelsIn, output: out,
          xViews: panelViews(input, layer.inFeatures, widths),
          yViews: panelViews(out, layer.outFeatures, widths),
        });
        previous = out;
        layout = 'panels';
      }
    });
    return { batch, widths, steps, output, classes: new Int32Array(batch), nonFinite: new Uint8Array(batch), inputSums: new Float64Array(batch) };
  }

  private pickKernel(layer: JsLayer, batch: number, widths: readonly number[]): KernelName {
    switch (this.strategy) {
      case 'auto': return chooseKernel(JS_COST_MODEL, layer, batch);
      case 'autotune': return autotune(layer, batch, widths);
      case 'bsr4x1': return layer.bsr === null ? 'csr' : 'bsr4x1';
      default: return this.strategy;
    }
  }

  protected run(plan: JsPlan, x: Float32Array | Float64Array): void {
    const { batch, widths } = plan;
    let current: FloatArray = x;
    for (const step of plan.steps) {
      const { layer, kernel } = step;
      if (kernel === 'dense') {
        let input: FloatArray = current;
        if (step.rowsIn !== null) {
          panelsToRows(current as Float64Array, layer.inFeatures, widths, step.rowsIn);
          input = step.rowsIn;
        }
        runDense(layer, batch, input, step.output);
      } else {
        if (step.panelsIn !== null) rowsToPanels(current, layer.inFeatures, widths, step.panelsIn, current === x ? plan.inputSums : null);
        runSparse(layer, kernel, widths, step.xViews, step.yViews);
      }
      current = step.output;
    }
    const last = plan.steps[plan.steps.length - 1]!;
    if (last.kernel !== 'dense') panelsToRows(current as Float64Array, this.outFeatures, widths, plan.output);
  }

  /** A sparse first layer summed each float32 sample on its way into panels: no second pass over x. */
  protected override flagNonFinite(plan: JsPlan, x: Float32Array | Float64Array): number {
    if (plan.steps[0]!.kernel === 'dense' || !isFloat32Array(x)) return super.flagNonFinite(plan, x);
    return flagNonFiniteSums(plan.batch, plan.inputSums, plan.nonFinite);
  }
}
