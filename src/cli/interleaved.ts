/*
 * Interleaved timing rounds for `sparsegrad bench model`. Each contender is calibrated once (its call loop is
 * lengthened until one measurement takes `minMs`), then every round measures every contender once, in turn,
 * so a slow moment of a shared machine hits all of them alike rather than one; the result per contender is
 * its median and min–max over the rounds, and ratios are taken per round, then their median.
 */

/** Something to time: one call (synchronous, or returning a promise for onnxruntime). */
export interface Contender {
  readonly name: string;
  readonly call: () => void | Promise<unknown>;
}

/** A contender's µs per call in each round. */
export interface RoundTimes {
  readonly name: string;
  readonly us: readonly number[];
}

/** Median, minimum and maximum of some numbers (not empty). */
export function spread(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Milliseconds for `count` calls (awaiting each when the call is asynchronous). */
async function loop(call: Contender['call'], count: number, isAsync: boolean): Promise<number> {
  const started = performance.now();
  if (isAsync) for (let i = 0; i < count; i++) await call();
  else for (let i = 0; i < count; i++) void call();
  return performance.now() - started;
}

/** Runs `rounds` interleaved rounds over the contenders (each calibrated to about `minMs` per measurement). */
export async function interleavedRounds(contenders: readonly Contender[], rounds: number, minMs: number): Promise<RoundTimes[]> {
  const plans = [];
  for (const contender of contenders) {
    const first = contender.call();
    const isAsync = first instanceof Promise;
    if (isAsync) await first;
    await loop(contender.call, 3, isAsync); // warm-up: the JIT compiles the hot path first
    let count = 1;
    for (;;) {
      const ms = await loop(contender.call, count, isAsync);
      if (ms >= minMs || count >= 1 << 22) break;
      count *= ms < minMs / 8 ? 8 : 2;
    }
    plans.push({ contender, count, isAsync, us: [] as number[] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const plan of plans) plan.us.push(((await loop(plan.contender.call, plan.count, plan.isAsync)) * 1000) / plan.count);
  }
  return plans.map((plan) => ({ name: plan.contender.name, us: plan.us }));
}
