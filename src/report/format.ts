/**
 * Number formatting for chart ticks and report tables.
 *
 * Written by hand instead of `toLocaleString` because locale formatting depends on the machine running it,
 * and the report must come out byte-for-byte the same everywhere (it is diffed and snapshot-tested).
 * Plain ASCII: `-` for minus, `,` between thousands, `.` before decimals.
 */

/** How a table column shows its numbers. */
export type NumberFormat =
  /** Integers with thousands separators; other numbers with about four significant digits. */
  | 'auto'
  /** Rounded to a whole number, with thousands separators. */
  | 'integer'
  /** A fraction shown as a percentage with one decimal: 0.9731 → "97.3%". */
  | 'percent'
  /** A ratio shown with two decimals and a times sign: 3.456 → "3.46×". */
  | 'speedup'
  /** A byte count in binary units: 1536 → "1.50 KiB". */
  | 'bytes'
  /** Fixed decimals, optionally followed by a unit such as " ms". */
  | { readonly decimals: number; readonly suffix?: string };

/** Inserts `,` between groups of three digits in the integer part of an already formatted number. */
export function groupThousands(formatted: string): string {
  const match = /^(-?)(\d+)(.*)$/.exec(formatted);
  if (match === null) return formatted;
  const [, sign = '', digits = '', rest = ''] = match;
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + rest;
}

/** Removes trailing zeros after a decimal point ("2.500" → "2.5", "3.000" → "3"), keeping any exponent. */
export function trimZeros(formatted: string): string {
  const [mantissa = '', exponent] = formatted.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent.replace(/^\+/, '')}`;
}

/** NaN and infinities as readers expect to see them; `undefined` for finite numbers. */
function formatNonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '-∞';
  return undefined;
}

/** `value` with exactly `decimals` digits after the point and grouped thousands; "-0" becomes "0". */
export function formatFixed(value: number, decimals: number): string {
  const special = formatNonFinite(value);
  if (special !== undefined) return special;
  const text = groupThousands(value.toFixed(Math.max(0, Math.min(20, Math.trunc(decimals)))));
  return /^-[0.,]*$/.test(text) ? text.slice(1) : text;
}

/** A fraction as a percentage: formatPercent(0.9731) = "97.3%", formatPercent(0.995, 2) = "99.50%". */
export function formatPercent(fraction: number, decimals = 1): string {
  const special = formatNonFinite(fraction);
  if (special !== undefined) return special;
  return `${formatFixed(fraction * 100, decimals)}%`;
}

/**
 * A short label for a number of any size, as used on chart ticks: up to `significant` significant digits,
 * trailing zeros dropped, exponent notation outside [1e-3, 1e6) so labels stay short ("1e-4", "2.5e7").
 */
export function formatCompact(value: number, significant = 4): string {
  const special = formatNonFinite(value);
  if (special !== undefined) return special;
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return trimZeros(value.toExponential(Math.max(0, significant - 1)));
  if (magnitude >= 10 ** significant) {
    // toPrecision would switch to exponent notation here ("1.235e+4"); round to a whole number instead.
    const unit = 10 ** (Math.floor(Math.log10(magnitude)) - significant + 1);
    return groupThousands(String(Math.round(value / unit) * unit));
  }
  return groupThousands(trimZeros(value.toPrecision(significant)));
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A byte count in binary units: 512 → "512 B", 1536 → "1.50 KiB", 3_145_728 → "3.00 MiB". */
export function formatBytes(bytes: number): string {
  const special = formatNonFinite(bytes);
  if (special !== undefined) return special;
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? '-' : '';
  return unit === 0 ? `${sign}${Math.round(value)} B` : `${sign}${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

/** Formats one number the way a table column asks for. */
export function formatNumber(value: number, format: NumberFormat = 'auto'): string {
  const special = formatNonFinite(value);
  if (special !== undefined) return special;
  if (typeof format === 'object') return formatFixed(value, format.decimals) + (format.suffix ?? '');
  switch (format) {
    case 'integer':
      return formatFixed(Math.round(value), 0);
    case 'percent':
      return formatPercent(value, 1);
    case 'speedup':
      return `${formatFixed(value, 2)}×`;
    case 'bytes':
      return formatBytes(value);
    case 'auto':
      if (Number.isInteger(value)) return formatFixed(value, 0);
      if (Math.abs(value) >= 1000) return formatFixed(value, 1);
      return trimZeros(value.toPrecision(4));
  }
}
