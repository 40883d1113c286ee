import { ConfigError } from '../errors.ts';
import {
  criteria, describeOption, optionFlag, pruningMethods, type OptionSpec, type OptionValue, type PruningMethod,
} from '../prune/index.ts';
import { numberFlag, type OptionSpec as FlagSpecs, UsageError } from './args.ts';

/*
 * Command-line flags for pruning methods' own options, generated from the method registry: the flags
 * `prune` and `compare` accept, their parsing and validation, and their help. Nothing here names a
 * method, so a registered method gets its flags and help without an edit.
 */

/** Each registered method's options by flag. */
function optionsByFlag(method: PruningMethod): Map<string, { option: string; spec: OptionSpec }> {
  return new Map(Object.entries(method.options as Record<string, OptionSpec>).map(([option, spec]) => [optionFlag(option, spec), { option, spec }]));
}

/**
 * parseArgs specs for every registered method's option flags (a flag several methods share appears once).
 * Throws ConfigError if a method's flag collides with one of the command's own flags.
 */
export function methodFlagSpecs(commandFlags: FlagSpecs): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const method of pruningMethods()) {
    for (const [flag, { spec }] of optionsByFlag(method)) {
      if (flag in commandFlags) throw new ConfigError(`method '${method.name}': option flag --${flag} collides with the command's own --${flag}`);
      specs[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
    }
  }
  return specs;
}

/**
 * The options each of `methods` gets from the parsed method flags. A flag applies to every listed method
 * that has it; a flag none of them has is a usage error naming the method(s) and their own flags.
 */
export function methodOptionsFromFlags(values: Record<string, unknown>, methods: readonly PruningMethod[], methodFlags: FlagSpecs): Map<string, Record<string, OptionValue>> {
  const result = new Map(methods.map((m) => [m.name, {} as Record<string, OptionValue>]));
  const byMethod = methods.map((m) => ({ method: m, flags: optionsByFlag(m) }));
  for (const flag of Object.keys(methodFlags)) {
    if (values[flag] === undefined) continue;
    const owners = byMethod.filter((m) => m.flags.has(flag));
    if (owners.length === 0) {
      const own = byMethod.flatMap((m) => [...m.flags.keys()].map((f) => `--${f}`));
      const names = methods.map((m) => `'${m.name}'`).join(', ');
      throw new UsageError(`--${flag} is not an option of method ${names} (${own.length === 0 ? methods.length === 1 ? 'it has no options of its own' : 'they have no options of their own' : `options: ${[...new Set(own)].join(', ')}`})`);
    }
    for (const { method, flags } of owners) {
      const { option, spec } = flags.get(flag)!;
      result.get(method.name)![option] = flagValue(values, flag, spec);
    }
  }
  return result;
}

function flagValue(values: Record<string, unknown>, flag: string, spec: OptionSpec): OptionValue {
  switch (spec.type) {
    case 'boolean': return values[flag] === true;
    case 'choice': {
      const v = values[flag];
      if (typeof v !== 'string' || !spec.choices.includes(v)) throw new UsageError(`--${flag} must be one of ${spec.choices.join(', ')}, got '${String(v)}'`);
      return v;
    }
    default: {
      const range = {
        integer: spec.type === 'integer',
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
        ...(spec.exclusiveMin === undefined ? {} : { exclusiveMin: spec.exclusiveMin }),
        ...(spec.exclusiveMax === undefined ? {} : { exclusiveMax: spec.exclusiveMax }),
      };
      return numberFlag(values, flag, undefined, range);
    }
  }
}

/** "--rounds N" etc.: a flag with a placeholder for its value. */
function flagWithValue(flag: string, spec: OptionSpec): string {
  const placeholder = spec.type === 'boolean' ? '' : spec.type === 'integer' ? ' N' : spec.type === 'choice' ? ' NAME' : ' X';
  return `--${flag}${placeholder}`;
}

/** Help for every registered method: name, summary, tags, paper, then its own option flags. */
export function methodsHelp(): string {
  const methods = pruningMethods();
  const width = Math.max(...methods.map((m) => m.name.length));
  const lines: string[] = [];
  for (const m of methods) {
    const tags = [m.usesCriterion ? 'criterion' : '', m.structured === true ? 'structured' : ''].filter(Boolean);
    lines.push(`  ${m.name.padEnd(width)}  ${m.summary}${tags.length === 0 ? '' : ` [${tags.join(', ')}]`}${m.paper === '' ? '' : ` — ${m.paper}`}`);
    for (const [flag, { option, spec }] of optionsByFlag(m)) {
      const sweep = m.sweep?.option === option ? ` (or chosen by a validation sweep over ${m.sweep.candidates.join(',')})` : '';
      lines.push(`  ${''.padEnd(width)}    ${flagWithValue(flag, spec).padEnd(22)} ${spec.help}; ${describeOption(spec)}${sweep}`);
    }
  }
  return lines.join('\n');
}

/** Help for every registered criterion. */
export function criteriaHelp(): string {
  const all = criteria();
  const width = Math.max(...all.map((c) => c.name.length));
  return all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
}
