import { ConfigError } from '../errors.ts';
import type { OptionValue, PruningMethod } from './method.ts';

/*
 * A pruning method's own options: typed specs with defaults, ranges and help, from which `runPruning`
 * validates options and the CLI generates its flags and help. One spec per option.
 */

interface OptionSpecBase {
  /** One line of help: what the option means (the CLI prints it next to the flag). */
  readonly help: string;
  /** Command-line flag without dashes (default: the option's name in kebab-case, e.g. endFraction → end-fraction). */
  readonly flag?: string;
  /** Must be given (or chosen by the method's `sweep`); otherwise the run is refused. */
  readonly required?: boolean;
  /** Describes a default that is computed at run time (e.g. '1/20 of the pruning phase'). */
  readonly defaultText?: string;
}

/** A number option; `integer` ones must be safe integers. Bounds are inclusive unless marked exclusive. */
export interface NumberOptionSpec extends OptionSpecBase {
  readonly type: 'number' | 'integer';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}

/** An on/off option (a bare flag on the command line). */
export interface BooleanOptionSpec extends OptionSpecBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}

/** One of a fixed list of names. */
export interface ChoiceOptionSpec extends OptionSpecBase {
  readonly type: 'choice';
  readonly choices: readonly string[];
  readonly default?: string;
}

/** The spec of one method option: its type, default, range and help. */
export type OptionSpec = NumberOptionSpec | BooleanOptionSpec | ChoiceOptionSpec;

/** One spec per option of `O`. */
export type OptionSpecs<O extends object> = { readonly [K in keyof O]-?: OptionSpec };

/** The command-line flag of an option (without dashes). */
export function optionFlag(name: string, spec: OptionSpec): string {
  return spec.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The type, range and default of an option in words, e.g. "number in (0, 1], default 0.75". */
export function describeOption(spec: OptionSpec): string {
  let what: string;
  if (spec.type === 'boolean') what = 'on/off';
  else if (spec.type === 'choice') what = `one of ${spec.choices.join(', ')}`;
  else what = describeNumber(spec);
  const fallback = spec.default !== undefined ? `default ${spec.default}` : spec.defaultText !== undefined ? `default: ${spec.defaultText}` : spec.required ? 'required' : undefined;
  return fallback === undefined ? what : `${what}, ${fallback}`;
}

/** "integer ≥ 1", "number in (0, 1]", ... */
function describeNumber(spec: NumberOptionSpec): string {
  const lo = spec.min === undefined ? undefined : `${spec.exclusiveMin ? '>' : '≥'} ${spec.min}`;
  const hi = spec.max === undefined ? undefined : `${spec.exclusiveMax ? '<' : '≤'} ${spec.max}`;
  const range = spec.min !== undefined && spec.max !== undefined
    ? ` in ${spec.exclusiveMin ? '(' : '['}${spec.min}, ${spec.max}${spec.exclusiveMax ? ')' : ']'}`
    : lo !== undefined ? ` ${lo}` : hi !== undefined ? ` ${hi}` : '';
  return `${spec.type === 'integer' ? 'an integer' : 'a number'}${range}`;
}

/** Why `value` does not fit `spec`, or null if it does. */
function problemWith(spec: OptionSpec, value: unknown): string | null {
  if (spec.type === 'boolean') return typeof value === 'boolean' ? null : 'must be true or false';
  if (spec.type === 'choice') return typeof value === 'string' && spec.choices.includes(value) ? null : `must be one of ${spec.choices.join(', ')}`;
  const ok =
    typeof value === 'number' && Number.isFinite(value) &&
    (spec.type !== 'integer' || Number.isSafeInteger(value)) &&
    (spec.min === undefined || (spec.exclusiveMin ? value > spec.min : value >= spec.min)) &&
    (spec.max === undefined || (spec.exclusiveMax ? value < spec.max : value <= spec.max));
  return ok ? null : `must be ${describeNumber(spec)}`;
}

/**
 * A method's options with defaults filled in, after checking every given value against its spec.
 * Throws ConfigError naming the method and the option: unknown options (listing the method's own),
 * values of the wrong type or out of range, missing required options.
 */
export function resolveOptions<O extends object>(method: PruningMethod<O>, given: unknown): O {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new ConfigError(`options of method '${method.name}' must be an object such as { ${Object.keys(method.options)[0] ?? 'name'}: ... }, got ${String(given)}`);
  }
  const raw = (given ?? {}) as Record<string, unknown>;
  const specs = method.options as Readonly<Record<string, OptionSpec>>;
  const names = Object.keys(specs);
  for (const key of Object.keys(raw)) {
    if (!(key in specs)) {
      throw new ConfigError(`method '${method.name}' has no option '${key}' (${names.length === 0 ? 'it has no options' : `its options: ${names.join(', ')}`})`);
    }
  }
  const resolved: Record<string, OptionValue | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name] === undefined ? spec.default : raw[name];
    if (value === undefined) {
      if (spec.required) throw new ConfigError(`method '${method.name}' needs the option '${name}' (${spec.help}), e.g. options: { ${name}: ... }${method.sweep?.option === name ? '; or choose it by a validation sweep (sweepPruning)' : ''}`);
      continue;
    }
    const problem = problemWith(spec, value);
    if (problem !== null) throw new ConfigError(`method '${method.name}': option '${name}' ${problem}, got ${JSON.stringify(value) ?? String(value)}`);
    resolved[name] = value as OptionValue;
  }
  return resolved as O;
}

/** Checks a method's option specs when it is registered: known types, defaults within their own ranges, unique flags. */
export function checkOptionSpecs(methodName: string, specs: Readonly<Record<string, OptionSpec>>, reserved: ReadonlySet<string>): void {
  const flags = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    const where = `method '${methodName}', option '${name}'`;
    if (spec === null || typeof spec !== 'object' || !['number', 'integer', 'boolean', 'choice'].includes(spec.type)) {
      throw new ConfigError(`${where}: type must be number, integer, boolean or choice`);
    }
    if (typeof spec.help !== 'string' || spec.help.length === 0) throw new ConfigError(`${where}: needs a one-line help text`);
    if (spec.type === 'choice' && (!Array.isArray(spec.choices) || spec.choices.length === 0)) throw new ConfigError(`${where}: a choice needs a non-empty list of choices`);
    if (reserved.has(name)) throw new ConfigError(`${where}: '${name}' is a common pruning setting, not a method option`);
    if (spec.default !== undefined) {
      const problem = problemWith(spec, spec.default);
      if (problem !== null) throw new ConfigError(`${where}: the default ${String(spec.default)} ${problem}`);
    }
    const flag = optionFlag(name, spec);
    if (!/^[a-z][a-z0-9-]*$/.test(flag)) throw new ConfigError(`${where}: flag '${flag}' must be lower-case letters, digits and dashes`);
    if (flags.has(flag)) throw new ConfigError(`${where}: flag --${flag} is used twice`);
    flags.add(flag);
  }
}

