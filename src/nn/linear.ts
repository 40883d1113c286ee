import { ConfigError } from '../errors.ts';
import { linear } from '../autograd/ops/matmul.ts';
import type { Var } from '../autograd/var.ts';
import type { Rng } from '../tensor/rng.ts';
import { zeros } from '../tensor/tensor.ts';
import { glorotUniform, heNormal, INIT_SCHEMES, torchDefaultUniform, type InitScheme } from './init.ts';
import { Layer } from './module.ts';
import { Parameter } from './parameter.ts';
import type { LayerSpec } from './spec.ts';

/** Settings of a Linear layer. */
export interface LinearOptions {
  /** Generator for the initial weights (required: every random choice is seeded). */
  rng: Rng;
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** 'he' (default, for ReLU nets), 'glorot', or 'torch' (PyTorch's nn.Linear default). */
  init?: InitScheme;
}

/**
 * Fully connected layer y = x·Wᵀ + b. The weight is stored [outFeatures, inFeatures] (as in PyTorch), so
 * row o of W holds the incoming connections of output neuron o — the same rows the sparse CSR form keeps.
 */
export class Linear extends Layer {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const { rng, bias = true, init = 'he' } = options;
    if (!INIT_SCHEMES.includes(init)) throw new ConfigError(`Linear: unknown init '${init}' (expected one of ${INIT_SCHEMES.join(', ')})`);
    const w = zeros([outFeatures, inFeatures]);
    if (init === 'he') heNormal(w.data, inFeatures, rng);
    else if (init === 'glorot') glorotUniform(w.data, inFeatures, outFeatures, rng);
    else torchDefaultUniform(w.data, inFeatures, rng);
    this.weight = new Parameter(w);
    this.bias = null;
    if (bias) {
      const b = zeros([outFeatures]);
      if (init === 'torch') torchDefaultUniform(b.data, inFeatures, rng);
      this.bias = new Parameter(b);
    }
  }

  /** Input width, read from the weight (neuron pruning may shrink it). */
  get inFeatures(): number {
    return this.weight.value.shape[1]!;
  }

  /** Output width (number of neurons), read from the weight. */
  get outFeatures(): number {
    return this.weight.value.shape[0]!;
  }

  forward(x: Var): Var {
    return linear(x, this.weight, this.bias);
  }

  override namedParameters(): [string, Parameter][] {
    return this.bias === null ? [['weight', this.weight]] : [['weight', this.weight], ['bias', this.bias]];
  }

  spec(): LayerSpec {
    return { type: 'linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null };
  }
}
