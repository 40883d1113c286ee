/** A fraction as a percentage with two decimals, for method notes: 0.9 → "90.00%". */
export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
