import { ConfigError } from '../errors.ts';
import { mul } from '../autograd/ops/arithmetic.ts';
import { relu, sigmoid, tanh } from '../autograd/ops/elementwise.ts';
import { constant, type Var } from '../autograd/var.ts';
import type { Rng } from '../tensor/rng.ts';
import { allocateOverwritten, Tensor } from '../tensor/tensor.ts';
import { Layer } from './module.ts';
import type { LayerSpec } from './spec.ts';

/** The layer form of `relu`: max(x, 0) elementwise, any shape. */
export class ReLU extends Layer {
  forward(x: Var): Var {
    return relu(x);
  }
  spec(): LayerSpec {
    return { type: 'relu' };
  }
}

/** The layer form of `sigmoid`: 1 / (1 + e⁻ˣ) elementwise, any shape. */
export class Sigmoid extends Layer {
  forward(x: Var): Var {
    return sigmoid(x);
  }
  spec(): LayerSpec {
    return { type: 'sigmoid' };
  }
}

/** The layer form of `tanh`: tanh x elementwise, any shape. */
export class Tanh extends Layer {
  forward(x: Var): Var {
    return tanh(x);
  }
  spec(): LayerSpec {
    return { type: 'tanh' };
  }
}

/**
 * Inverted dropout: in training, zeroes each activation with probability p and scales the survivors by
 * 1/(1−p), so evaluation needs no rescaling. The identity in evaluation mode.
 */
export class Dropout extends Layer {
  readonly p: number;
  private readonly rng: Rng;

  constructor(p: number, rng: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new ConfigError(`Dropout: p must be in [0, 1), got ${p}`);
    this.p = p;
    this.rng = rng;
  }

  forward(x: Var): Var {
    if (!this.training || this.p === 0) return x;
    const keep = new Tensor(allocateOverwritten(x.value.size, x.value.dtype), x.shape);
    const scale = 1 / (1 - this.p);
    for (let i = 0; i < keep.size; i++) keep.data[i] = this.rng.uniform() < this.p ? 0 : scale;
    return mul(x, constant(keep));
  }

  spec(): LayerSpec {
    return { type: 'dropout', p: this.p };
  }
}
