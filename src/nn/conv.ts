import { ConfigError } from '../errors.ts';
import { conv2d } from '../autograd/ops/conv.ts';
import type { Var } from '../autograd/var.ts';
import { pairOf } from '../tensor/conv.ts';
import type { Rng } from '../tensor/rng.ts';
import { zeros } from '../tensor/tensor.ts';
import { glorotUniform, heNormal, INIT_SCHEMES, torchDefaultUniform, type InitScheme } from './init.ts';
import { Layer } from './module.ts';
import { Parameter } from './parameter.ts';
import type { Conv2dSpec, LayerSpec } from './spec.ts';

/** Settings of a Conv2d layer (sizes are a number, or a [height, width] pair). */
export interface Conv2dLayerOptions {
  /** Generator for the initial weights (required: every random choice is seeded). */
  rng: Rng;
  /** Step between windows (default 1). */
  stride?: number | readonly [number, number];
  /** Zero padding on every side (default 0). */
  padding?: number | readonly [number, number];
  /** Channel groups (default 1). */
  groups?: number;
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** 'he' (default), 'glorot', or 'torch' (PyTorch's nn.Conv2d default), as for Linear. */
  init?: InitScheme;
}

/**
 * 2-D convolution layer on [N, C, H, W] activations: weight [outChannels, inChannels/groups, kh, kw] and bias
 * [outChannels], as in PyTorch. Row o of the weight read as [outChannels, inChannels/groups·kh·kw] holds the
 * filter of output channel o — the rows the sparse CSR form keeps, as for Linear. Initialised like Linear
 * with fan-in (inChannels/groups)·kh·kw (and fan-out outChannels/groups·kh·kw for Glorot).
 */
export class Conv2d extends Layer {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: Conv2dLayerOptions) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`Conv2d: ${name} must be a positive integer, got ${v}`);
    }
    const { rng, bias = true, init = 'he', groups = 1 } = options;
    const [kh, kw] = pairOf(kernelSize, 'Conv2d kernelSize', 1);
    this.stride = pairOf(options.stride ?? 1, 'Conv2d stride', 1);
    this.padding = pairOf(options.padding ?? 0, 'Conv2d padding', 0);
    if (!Number.isSafeInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ConfigError(`Conv2d: groups must be a positive integer dividing inChannels (${inChannels}) and outChannels (${outChannels}), got ${groups}`);
    }
    if (!INIT_SCHEMES.includes(init)) throw new ConfigError(`Conv2d: unknown init '${init}' (expected one of ${INIT_SCHEMES.join(', ')})`);
    this.groups = groups;
    const fanIn = (inChannels / groups) * kh * kw;
    const w = zeros([outChannels, inChannels / groups, kh, kw]);
    if (init === 'he') heNormal(w.data, fanIn, rng);
    else if (init === 'glorot') glorotUniform(w.data, fanIn, (outChannels / groups) * kh * kw, rng);
    else torchDefaultUniform(w.data, fanIn, rng);
    this.weight = new Parameter(w);
    this.bias = null;
    if (bias) {
      const b = zeros([outChannels]);
      if (init === 'torch') torchDefaultUniform(b.data, fanIn, rng);
      this.bias = new Parameter(b);
    }
  }

  /** Output channels (filters), read from the weight (filter pruning may shrink it). */
  get outChannels(): number {
    return this.weight.value.shape[0]!;
  }

  /** Input channels, read from the weight (removing the previous layer's filters shrinks it). */
  get inChannels(): number {
    return this.weight.value.shape[1]! * this.groups;
  }

  /** The window [kh, kw]. */
  get kernelSize(): [number, number] {
    return [this.weight.value.shape[2]!, this.weight.value.shape[3]!];
  }

  forward(x: Var): Var {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
  }

  override namedParameters(): [string, Parameter][] {
    return this.bias === null ? [['weight', this.weight]] : [['weight', this.weight], ['bias', this.bias]];
  }

  spec(): Conv2dSpec & LayerSpec {
    return {
      type: 'conv2d', inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernelSize,
      stride: [...this.stride] as [number, number], padding: [...this.padding] as [number, number], groups: this.groups, bias: this.bias !== null,
    };
  }
}
