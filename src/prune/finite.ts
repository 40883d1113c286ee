import { NonFiniteError } from '../errors.ts';

/**
 * Throws NonFiniteError naming `what` and the first index whose value is NaN or ±Infinity. O(n).
 * Rankings need this check: a sort comparator `a − b` is NaN for a NaN score, which the sort treats as
 * "equal to everything", so a NaN-scored weight would land anywhere — usually among the survivors.
 */
export function assertFiniteScores(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new NonFiniteError(`${what}: index ${i} is ${v} (scores must be finite numbers)`);
  }
}
