import { avgPool2d, maxPool2d } from '../autograd/ops/pool.ts';
import type { Var } from '../autograd/var.ts';
import { pairOf } from '../tensor/conv.ts';
import { Layer } from './module.ts';
import type { Pool2dSpec } from './spec.ts';

/** Window, stride (default: the window) and padding (default 0) of a pooling layer. */
export interface Pool2dLayerOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
}

abstract class Pool2dLayer extends Layer {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];

  constructor(name: string, kernelSize: number | readonly [number, number], options: Pool2dLayerOptions) {
    super();
    this.kernelSize = pairOf(kernelSize, `${name} kernelSize`, 1);
    this.stride = pairOf(options.stride ?? this.kernelSize, `${name} stride`, 1);
    this.padding = pairOf(options.padding ?? 0, `${name} padding`, 0);
  }

  protected poolSpec(type: Pool2dSpec['type']): Pool2dSpec {
    return { type, kernelSize: [...this.kernelSize] as [number, number], stride: [...this.stride] as [number, number], padding: [...this.padding] as [number, number] };
  }
}

/** The layer form of `maxPool2d` on [N, C, H, W] activations (no parameters). ConfigError for bad sizes. */
export class MaxPool2d extends Pool2dLayer {
  constructor(kernelSize: number | readonly [number, number], options: Pool2dLayerOptions = {}) {
    super('MaxPool2d', kernelSize, options);
  }
  forward(x: Var): Var {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }
  spec(): Pool2dSpec {
    return this.poolSpec('maxpool2d');
  }
}

/** The layer form of `avgPool2d` on [N, C, H, W] activations (no parameters). ConfigError for bad sizes. */
export class AvgPool2d extends Pool2dLayer {
  constructor(kernelSize: number | readonly [number, number], options: Pool2dLayerOptions = {}) {
    super('AvgPool2d', kernelSize, options);
  }
  forward(x: Var): Var {
    return avgPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }
  spec(): Pool2dSpec {
    return this.poolSpec('avgpool2d');
  }
}
