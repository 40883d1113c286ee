/**
 * Axis scales for the SVG charts: how a data value becomes a pixel position, which values get a tick,
 * and how a tick is labelled.
 *
 * Three kinds:
 * - `linear`: position ∝ value. Ticks are "nice" steps of 1, 2 or 5 × 10^k.
 * - `log`: position ∝ log10(value). Ticks are 1-2-5 × 10^k when the axis spans few decades, powers of ten
 *   when it spans many. Values ≤ 0 cannot be shown and are skipped by the chart.
 * - `sparsity`: for a sparsity s in [0, 1), position ∝ −log10(1 − s), i.e. a log scale of the *density*
 *   1 − s, flipped so sparsity still grows to the right. Why: pruning results change fastest where few
 *   weights remain, so each tenfold cut of the remaining weights gets the same width. 90 %, 99 % and 99.9 %
 *   sit at equal steps, and 0.5, 0.8, 0.9, 0.95, 0.98, 0.99 (densities 1-2-5 × 10^k) are spread evenly
 *   instead of 0.9–0.99 being squeezed into the last tenth of a linear axis. s = 0 maps to 0 (full
 *   density), so dense baselines still fit; s = 1 would be infinitely far right and is skipped.
 */
import { ConfigError } from '../errors.ts';
import { formatCompact, formatFixed, formatPercent, trimZeros } from './format.ts';

export type ScaleKind = 'linear' | 'log' | 'sparsity';

/** A closed interval [low, high] in data units, low < high. */
export type Domain = readonly [low: number, high: number];

/** A mapping from data values to pixels along one axis, with its ticks. */
export interface Scale {
  readonly kind: ScaleKind;
  readonly domain: Domain;
  /** Pixel positions of domain[0] and domain[1] (the y axis runs bottom to top, so range[0] > range[1]). */
  readonly range: readonly [number, number];
  /** Whether the value can be placed on this axis at all (finite, and positive for log, in [0, 1) for sparsity). */
  accepts(value: number): boolean;
  /** Pixel position of a value; values outside the domain land outside the range (charts clip them). */
  toPixel(value: number): number;
  /** Tick values inside the domain, ascending. */
  readonly ticks: readonly number[];
  /** The default tick label for this scale and tick spacing. */
  formatTick(value: number): string;
}

// ---------------------------------------------------------------------------------------------------------
// Transforms: every kind is a linear map applied after a monotone transform.

function accepts(kind: ScaleKind, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (kind === 'log') return value > 0;
  if (kind === 'sparsity') return value >= 0 && value < 1;
  return true;
}

function transform(kind: ScaleKind, value: number): number {
  if (kind === 'log') return Math.log10(value);
  if (kind === 'sparsity') return -Math.log10(1 - value);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Nice numbers.

/** The 1-2-5 × 10^k step nearest to `rawStep` on a log scale (thresholds √2, √10, √50 as in d3). */
export function niceStep(rawStep: number): number {
  const exponent = Math.floor(Math.log10(rawStep));
  const mantissa = rawStep / 10 ** exponent;
  const nice = mantissa >= Math.sqrt(50) ? 10 : mantissa >= Math.sqrt(10) ? 5 : mantissa >= Math.SQRT2 ? 2 : 1;
  return nice * 10 ** exponent;
}

/** Digits after the decimal point needed to write multiples of `step` exactly (step = 1, 2 or 5 × 10^k). */
function decimalsOfStep(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** Removes floating-point dust (0.30000000000000004 → 0.3) from a value that should be a short decimal. */
function clean(value: number): number {
  return Number.parseFloat(value.toPrecision(12));
}

/** Multiples of a nice step covering [low, high], about `targetCount` of them. */
export function linearTicks(low: number, high: number, targetCount = 6): number[] {
  if (!(high > low)) return Number.isFinite(low) ? [low] : [];
  const step = niceStep((high - low) / Math.max(1, targetCount));
  const first = Math.ceil(low / step - 1e-9);
  const last = Math.floor(high / step + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(clean(i * step));
  return ticks;
}

/** Values m × 10^k (m in `mantissas`) inside [low, high], ascending. Requires 0 < low ≤ high. */
function decadeTicks(low: number, high: number, mantissas: readonly number[], decadeStride = 1): number[] {
  const ticks: number[] = [];
  const firstDecade = Math.floor(Math.log10(low)) - 1;
  const lastDecade = Math.ceil(Math.log10(high)) + 1;
  for (let decade = firstDecade; decade <= lastDecade; decade++) {
    if (decade % decadeStride !== 0) continue;
    for (const m of mantissas) {
      const value = clean(m * 10 ** decade);
      if (value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9)) ticks.push(value);
    }
  }
  return ticks;
}

/**
 * Ticks for a log axis over [low, high] (0 < low < high): 1-2-5 × 10^k if that gives at most `maxCount`,
 * else powers of ten (every second or fifth power if there are still too many). An axis narrower than
 * one 1-2-5 step (say 1.1 to 1.9) gets linear ticks so it is never left bare.
 */
export function logTicks(low: number, high: number, maxCount = 10): number[] {
  if (!(low > 0) || !(high > low)) return low > 0 ? [low] : [];
  const oneTwoFive = decadeTicks(low, high, [1, 2, 5]);
  if (oneTwoFive.length < 2) return linearTicks(low, high, 4);
  if (oneTwoFive.length <= maxCount) return oneTwoFive;
  for (const stride of [1, 2, 5, 10, 20, 50, 100]) {
    const powers = decadeTicks(low, high, [1], stride);
    if (powers.length <= maxCount) return powers;
  }
  return [low, high];
}

/**
 * Ticks for a sparsity axis over [low, high] ⊂ [0, 1): sparsities whose density 1 − s is a 1-2-5 × 10^k
 * value (0, 50 %, 80 %, 90 %, 95 %, 98 %, 99 %, 99.5 %, …), thinned like a log axis when there are too many.
 */
export function sparsityTicks(low: number, high: number, maxCount = 10): number[] {
  if (!(high > low)) return [low];
  const densityTicks = logTicks(1 - high, 1 - low, maxCount);
  return densityTicks.map((density) => clean(1 - density)).reverse();
}

/**
 * Extends [low, high] outward to tidy values for the scale kind, so axes start and end on a tick.
 * A single value (low = high) is widened first, because an axis needs some length.
 */
export function niceDomain(kind: ScaleKind, low: number, high: number): Domain {
  if (kind === 'linear') {
    if (low === high) {
      const pad = low === 0 ? 1 : Math.abs(low) * 0.1;
      low -= pad;
      high += pad;
    }
    const step = niceStep((high - low) / 5);
    return [clean(Math.floor(low / step + 1e-9) * step), clean(Math.ceil(high / step - 1e-9) * step)];
  }
  if (kind === 'log') {
    if (low === high) {
      low /= 2;
      high *= 2;
    }
    return [niceLogFloor(low), niceLogCeil(high)];
  }
  // Sparsity: tidy the density 1 − s on a log scale, never beyond density 1 (s = 0).
  let densityLow = 1 - high;
  let densityHigh = 1 - low;
  if (densityLow === densityHigh) {
    densityLow /= 2;
    densityHigh = Math.min(1, densityHigh * 2);
  }
  return [clean(1 - Math.min(1, niceLogCeil(densityHigh))), clean(1 - niceLogFloor(densityLow))];
}

/** The largest 1-2-5 × 10^k value ≤ x (x > 0). */
function niceLogFloor(x: number): number {
  const decade = 10 ** Math.floor(Math.log10(x) + 1e-12);
  for (const m of [5, 2, 1]) if (m * decade <= x * (1 + 1e-9)) return clean(m * decade);
  return clean(decade);
}

/** The smallest 1-2-5 × 10^k value ≥ x (x > 0). */
function niceLogCeil(x: number): number {
  const decade = 10 ** Math.floor(Math.log10(x) + 1e-12);
  for (const m of [1, 2, 5, 10]) if (m * decade >= x * (1 - 1e-9)) return clean(m * decade);
  return clean(10 * decade);
}

// ---------------------------------------------------------------------------------------------------------
// Tick labels.

/** Fewest decimals (0–4) that show `percent` without visible rounding: 90 → "90", 99.5 → "99.5". */
function percentDecimals(fraction: number): number {
  for (let decimals = 0; decimals < 4; decimals++) {
    const shown = Number((fraction * 100).toFixed(decimals));
    if (Math.abs(shown - fraction * 100) < 1e-9) return decimals;
  }
  return 4;
}

/** Formats a sparsity tick as a percentage with just enough decimals: 0.9 → "90%", 0.995 → "99.5%". */
export function formatSparsity(sparsity: number): string {
  return formatPercent(sparsity, percentDecimals(sparsity));
}

function defaultFormatter(kind: ScaleKind, ticks: readonly number[]): (value: number) => string {
  if (kind === 'sparsity') return formatSparsity;
  if (kind === 'log') {
    // One notation per axis: all plain ("0.5, 1, 2, 5") or, for very large or small values, all exponents
    // ("1e3, 1e4, 1e5"), never a mix such as "1,000, 1e4".
    const magnitudes = ticks.map(Math.abs).filter((v) => v > 0);
    const exponents = magnitudes.some((v) => v >= 1e5 || v < 1e-3);
    return exponents ? (value) => trimZeros(value.toExponential(3)) : (value) => formatCompact(value);
  }
  // Linear: the same number of decimals on every tick of the axis ("0.0, 0.5, 1.0"), set by the tick step.
  const step = ticks.length >= 2 ? Math.abs((ticks[1] ?? 0) - (ticks[0] ?? 0)) : 0;
  const largest = Math.max(...ticks.map(Math.abs), 0);
  if (step === 0 || largest >= 1e15 || (largest > 0 && largest < 1e-3)) return (value) => formatCompact(value);
  // Large values get one SI suffix for the whole axis ("0, 200k, 400k" or "0.0M, 0.4M, 0.8M, 1.2M").
  // Suffixes start at 10,000: below that, plain numbers ("5,000") are as short and clearer.
  const si = ([[1e12, 1e12, 'T'], [1e9, 1e9, 'G'], [1e6, 1e6, 'M'], [1e4, 1e3, 'k']] as const).find(([threshold]) => largest >= threshold);
  if (si !== undefined) {
    const [, unit, suffix] = si;
    const decimals = decimalsOfStep(step / unit);
    return (value) => (value === 0 ? '0' : `${formatFixed(value / unit, decimals)}${suffix}`);
  }
  const decimals = decimalsOfStep(step);
  return (value) => formatFixed(value, decimals);
}

// ---------------------------------------------------------------------------------------------------------
// Building a scale.

/** Checks an explicit domain given by a caller; throws ConfigError naming the axis and the problem. */
export function checkDomain(kind: ScaleKind, domain: Domain, axisName: string): void {
  const [low, high] = domain;
  if (!accepts(kind, low) || !accepts(kind, high)) {
    const rule = kind === 'log' ? 'positive finite numbers' : kind === 'sparsity' ? 'values in [0, 1)' : 'finite numbers';
    throw new ConfigError(`${axisName} domain [${low}, ${high}] on a ${kind} axis must be ${rule}`);
  }
  if (!(high > low)) throw new ConfigError(`${axisName} domain [${low}, ${high}] must have low < high`);
}

/**
 * A scale over `domain` (data units) onto `range` (pixels). `maxTicks` bounds the tick count; the chart
 * thins them further if their labels would overlap.
 */
export function createScale(kind: ScaleKind, domain: Domain, range: readonly [number, number], maxTicks = 10): Scale {
  const [low, high] = domain;
  const t0 = transform(kind, low);
  const t1 = transform(kind, high);
  const pixelsPerUnit = (range[1] - range[0]) / (t1 - t0);
  // niceStep rounds the step to 1-2-5, which can give up to ~1.5× the target count, so linear axes aim lower.
  const ticks =
    kind === 'linear'
      ? linearTicks(low, high, Math.max(2, Math.round(maxTicks / 2)))
      : kind === 'log'
        ? logTicks(low, high, maxTicks)
        : sparsityTicks(low, high, maxTicks);
  const formatTick = defaultFormatter(kind, ticks);
  return {
    kind,
    domain,
    range,
    accepts: (value) => accepts(kind, value),
    toPixel: (value) => range[0] + (transform(kind, value) - t0) * pixelsPerUnit,
    ticks,
    formatTick,
  };
}

/** The data extent of the values a scale kind can show, or undefined if there are none. */
export function extentFor(kind: ScaleKind, values: Iterable<number>): Domain | undefined {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (!accepts(kind, value)) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return low <= high ? [low, high] : undefined;
}

export { accepts as scaleAccepts };
