import { parseArgs } from 'node:util';
import { SparsegradError } from '../errors.ts';
import { BACKENDS, DEFAULT_BACKEND, isBackend, type Backend } from '../tensor/backend.ts';

/** A mistake in how the command was called: unknown flag, missing or malformed value. Exit code 2. */
export class UsageError extends SparsegradError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Parses one command's flags strictly (unknown flags are errors); returns the values and positionals. */
export function parseCommand(argv: string[], options: OptionSpec, allowPositionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/^TypeError \[[A-Z_]+\]: /, '') : String(error));
  }
}

export function stringFlag(values: Record<string, unknown>, name: string, fallback?: string): string {
  const v = values[name];
  if (typeof v === 'string') return v;
  if (fallback !== undefined) return fallback;
  throw new UsageError(`missing --${name}`);
}

export function optionalString(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A number flag, checked against a range; `integer` demands a safe integer. */
export function numberFlag(values: Record<string, unknown>, name: string, fallback: number | undefined, range: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean; exclusiveMax?: boolean } = {}): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`missing --${name}`);
    return fallback;
  }
  const v = Number(raw);
  const describe = (): string => {
    const lo = range.min === undefined ? '' : `${range.exclusiveMin ? '>' : '≥'} ${range.min}`;
    const hi = range.max === undefined ? '' : `${range.exclusiveMax ? '<' : '≤'} ${range.max}`;
    return [range.integer ? 'an integer' : 'a number', lo, hi].filter(Boolean).join(' ');
  };
  const bad =
    typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) ||
    (range.integer === true && !Number.isSafeInteger(v)) ||
    (range.min !== undefined && (range.exclusiveMin ? v <= range.min : v < range.min)) ||
    (range.max !== undefined && (range.exclusiveMax ? v >= range.max : v > range.max));
  if (bad) throw new UsageError(`--${name} must be ${describe()}, got '${String(raw)}'`);
  return v;
}

/** A comma-separated list flag. */
export function listFlag(values: Record<string, unknown>, name: string, fallback: readonly string[]): string[] {
  const raw = values[name];
  if (typeof raw !== 'string') return [...fallback];
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  return items;
}

export function numberListFlag(values: Record<string, unknown>, name: string, fallback: readonly number[]): number[] {
  if (typeof values[name] !== 'string') return [...fallback];
  return listFlag(values, name, []).map((item) => {
    const v = Number(item);
    if (!Number.isFinite(v)) throw new UsageError(`--${name}: '${item}' is not a number`);
    return v;
  });
}

/** `--backend js|wasm-simd`: which kernels training and compiled inference run on (default DEFAULT_BACKEND). */
export function backendFlag(values: Record<string, unknown>): Backend {
  const backend = stringFlag(values, 'backend', DEFAULT_BACKEND);
  if (!isBackend(backend)) throw new UsageError(`--backend must be ${BACKENDS.join(' or ')}, got '${backend}'`);
  return backend;
}
