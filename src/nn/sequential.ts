import type { Var } from '../autograd/var.ts';
import type { Layer } from './module.ts';
import { Module } from './module.ts';
import type { Parameter } from './parameter.ts';
import type { ModelSpec } from './spec.ts';

/** Layers applied one after the other. Parameters are named `layers.<index>.<name>`. */
export class Sequential extends Module {
  readonly layers: Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }

  forward(x: Var): Var {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  override children(): readonly Module[] {
    return this.layers;
  }

  override namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    this.layers.forEach((layer, i) => {
      for (const [name, p] of layer.namedParameters()) out.push([`layers.${i}.${name}`, p]);
    });
    return out;
  }

  spec(): ModelSpec {
    return { layers: this.layers.map((l) => l.spec()) };
  }
}
