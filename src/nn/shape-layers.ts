import { ConfigError } from '../errors.ts';
import { flatten, reshape } from '../autograd/ops/shape.ts';
import type { Var } from '../autograd/var.ts';
import { Layer } from './module.ts';
import type { LayerSpec } from './spec.ts';

/** [N, ...] → [N, product of the rest]: what a convolution hands a Linear layer (no copy, no parameters). */
export class Flatten extends Layer {
  forward(x: Var): Var {
    return flatten(x, 1);
  }
  spec(): LayerSpec {
    return { type: 'flatten' };
  }
}

/**
 * [N, ...] → [N, ...shape]: each sample's values seen with another shape (no copy, no parameters). A
 * convolutional model starts with one, turning rows of pixels into [channels, height, width] images.
 */
export class Reshape extends Layer {
  readonly shape: readonly number[];

  constructor(shape: readonly number[]) {
    super();
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new ConfigError(`Reshape: the per-sample shape must be a non-empty list of positive integers, got ${JSON.stringify(shape)}`);
    }
    this.shape = [...shape];
  }

  forward(x: Var): Var {
    return reshape(x, [x.shape[0] ?? 1, ...this.shape]);
  }

  spec(): LayerSpec {
    return { type: 'reshape', shape: [...this.shape] };
  }
}
