import type { Var } from '../autograd/var.ts';
import type { Parameter } from './parameter.ts';
import type { LayerSpec } from './spec.ts';

/**
 * A building block of a network: a forward function plus the parameters it owns. Parameters are listed
 * explicitly by each module (no reflection), with dotted names such as `layers.0.weight`.
 */
export abstract class Module {
  /** Training mode (dropout active) or evaluation mode. */
  training = true;

  abstract forward(x: Var): Var;

  /** [name, parameter] pairs, in a stable order. */
  namedParameters(): [string, Parameter][] {
    return [];
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Direct sub-modules (for containers). */
  children(): readonly Module[] {
    return [];
  }

  train(on = true): this {
    this.training = on;
    for (const child of this.children()) child.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's accumulated gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }
}

/** A module that is one layer of a Sequential and can describe itself as plain data. */
export abstract class Layer extends Module {
  abstract spec(): LayerSpec;
}
