import { ConfigError } from '../../errors.ts';
import type { Parameter } from '../parameter.ts';
import { Adam, AdamW } from './adam.ts';
import type { Optimizer } from './optimizer.ts';
import { SGD } from './sgd.ts';

/** The optimizers a training or pruning run can be configured with by name (CLI `--optimizer`, `PruneConfig`). */
export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
/** One of `OPTIMIZERS`. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * An optimizer by name with the library's defaults: Adam and AdamW as in PyTorch (AdamW's weight decay
 * 0.01), SGD with momentum 0.9. Throws ConfigError for an unknown name, listing the valid ones.
 */
export function makeOptimizer(name: string, params: readonly Parameter[], lr: number): Optimizer {
  switch (name) {
    case 'adam': return new Adam(params, { lr });
    case 'adamw': return new AdamW(params, { lr });
    case 'sgd': return new SGD(params, { lr, momentum: 0.9 });
    default: throw new ConfigError(`unknown optimizer '${name}' (expected one of ${OPTIMIZERS.join(', ')})`);
  }
}
