import { ConfigError } from '../errors.ts';
import { BUILTIN_METHODS } from './methods/index.ts';
import type { PruningMethod } from './method.ts';
import { checkOptionSpecs, optionFlag, type OptionSpec } from './options.ts';
import { PRUNE_CONFIG_KEYS } from './config.ts';

/*
 * The registry of pruning methods: the built-ins (methods/index.ts) plus any a user registers. The CLI's
 * `--method`, its help and flags, comparison grids and sweeps all look methods up here, so a method
 * registered from outside the package is usable everywhere without another edit.
 */

// Methods are stored with their option type erased; resolveOptions gives each its own options back.
type AnyPruningMethod = PruningMethod<any>;

const registry = new Map<string, AnyPruningMethod>();
for (const method of BUILTIN_METHODS) registerPruningMethod(method);

/**
 * Adds a pruning method, usable by name in `runPruning`, the CLI (`--method`, its option flags and
 * `--help`), `runComparison` and `sweepPruning`. Throws ConfigError if the name is taken or malformed, or
 * the method's declaration is incomplete or inconsistent (bad option specs, a flag another method uses
 * for a different kind of value).
 *
 * @example
 * ```ts
 * import { definePruningMethod, mlp, registerPruningMethod, runPruning } from 'sparsegrad';
 * import { loadDigits } from 'sparsegrad/node';
 *
 * // Train dense for `warmup` epochs, prune once to the target with the run's criterion, fine-tune the rest.
 * registerPruningMethod(definePruningMethod<{ warmup: number }>({
 *   name: 'warmup-then-prune', summary: 'train, prune once, fine-tune', paper: '', usesCriterion: true, minEpochs: 1,
 *   options: { warmup: { type: 'integer', min: 0, max: 100, default: 1, help: 'dense epochs before pruning' } },
 *   run(ctx, { warmup }) {
 *     ctx.train(Math.min(warmup, ctx.config.epochs), 'warm-up');
 *     ctx.pruneTo(ctx.sparsity); // scores (a gradient pass if the criterion needs one), selects, installs masks
 *     ctx.train(Math.max(0, ctx.config.epochs - warmup), 'fine-tune');
 *   },
 * }));
 * const result = runPruning(mlp([784, 64, 10], { seed: 0 }), { train: loadDigits().train }, {
 *   method: 'warmup-then-prune', criterion: 'taylor', sparsity: 0.8, scope: 'global', granularity: { kind: 'weight' },
 *   epochs: 2, batchSize: 128, lr: 1e-3, seed: 0, options: { warmup: 1 },
 * });
 * console.log(result.sparsity); // 0.8 (to within one weight)
 * ```
 */
export function registerPruningMethod<O extends object>(method: PruningMethod<O>): void {
  const { name } = method;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) throw new ConfigError(`method name must be lower-case letters, digits and dashes, got '${String(name)}'`);
  if (registry.has(name)) throw new ConfigError(`a pruning method named '${name}' is already registered`);
  if (typeof method.summary !== 'string' || method.summary.length === 0) throw new ConfigError(`method '${name}' needs a one-line summary`);
  if (typeof method.paper !== 'string') throw new ConfigError(`method '${name}' must name the paper it implements (paper: '' for none)`);
  if (typeof method.run !== 'function') throw new ConfigError(`method '${name}' needs a run(ctx, options) function`);
  if (typeof method.usesCriterion !== 'boolean') throw new ConfigError(`method '${name}' must say whether it uses the criterion (usesCriterion: true or false)`);
  if (method.minEpochs !== undefined && !(Number.isSafeInteger(method.minEpochs) && method.minEpochs >= 0)) throw new ConfigError(`method '${name}': minEpochs must be a non-negative integer`);
  if (method.options === null || typeof method.options !== 'object') throw new ConfigError(`method '${name}' needs an options object ({} if it has none)`);
  const specs = method.options as Readonly<Record<string, OptionSpec>>;
  checkOptionSpecs(name, specs, PRUNE_CONFIG_KEYS);
  if (method.sweep !== undefined) {
    const spec = specs[method.sweep.option];
    if (spec === undefined || (spec.type !== 'number' && spec.type !== 'integer')) throw new ConfigError(`method '${name}': sweep option '${method.sweep.option}' must be one of its number options`);
  }
  // One command line serves every method: a flag shared by two methods must take the same kind of value.
  for (const [option, spec] of Object.entries(specs)) {
    const flag = optionFlag(option, spec);
    for (const other of registry.values()) {
      for (const [otherOption, otherSpec] of Object.entries(other.options as Readonly<Record<string, OptionSpec>>)) {
        if (optionFlag(otherOption, otherSpec) === flag && (otherSpec.type === 'boolean') !== (spec.type === 'boolean')) {
          throw new ConfigError(`method '${name}': flag --${flag} has type ${spec.type} here but type ${otherSpec.type} in method '${other.name}'`);
        }
      }
    }
  }
  registry.set(name, method);
}

/** Every registered method: the built-ins first, then user methods in registration order. */
export function pruningMethods(): PruningMethod[] {
  return [...registry.values()];
}

/** The method registered under `name`. Throws ConfigError listing the registered names. */
export function pruningMethod(name: string): PruningMethod {
  const found = registry.get(name);
  if (found === undefined) throw new ConfigError(`unknown method '${name}' (expected one of ${[...registry.keys()].join(', ')})`);
  return found;
}

/** Checks that `name` is a registered method and returns it (ConfigError otherwise). */
export function parseMethod(name: string): string {
  return pruningMethod(name).name;
}
