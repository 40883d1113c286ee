/**
 * How the sparse benchmark judges speed (issue 11, item 5): every timed thing is a Probe, all probes are run
 * once per round in a fixed order and the rounds are repeated (interleaving: the two sides of a ratio are
 * measured in the same minutes of a shared machine), and a ratio is the median over the rounds of the
 * per-round ratio, reported with its min–max. A target counts as met when the median meets it.
 */
import { measure } from './harness.ts';

/**
 * One measurement: a calibrated loop of ≥ minMs, `reps` samples. Clock 'wall' (the default): benchmark.js's mean
 * over its samples (minTime = minMs, maxTime = minMs·reps). Clock 'cpu': this process's CPU time (user +
 * system) per call over the same loop, the least of `reps` samples — which leaves out the time the process
 * waited for a core on a shared machine (not the cache and memory traffic of the others). Single-threaded code
 * only: CPU time adds up every thread of the process.
 */
export interface Timer {
  minMs: number;
  reps: number;
  clock?: 'wall' | 'cpu';
}

/** Microseconds per call of `fn` (see Timer). */
export function time(fn: () => void, timer: Timer): number {
  if (timer.clock === 'cpu') return cpuMicros(fn, timer);
  return measure('sparse', fn, { maxTime: (timer.minMs * timer.reps) / 1000, minSamples: 3, minTime: timer.minMs / 1000 }).seconds * 1e6;
}

function cpuMicros(fn: () => void, timer: Timer): number {
  let n = 1;
  for (;;) { // calibrate: double until a loop takes ≥ minMs / 4 of wall time, then scale to minMs
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const ms = performance.now() - t0;
    if (ms >= timer.minMs / 4) {
      n = Math.max(1, Math.ceil((n * timer.minMs) / ms));
      break;
    }
    n *= 2;
  }
  let best = Infinity;
  for (let rep = 0; rep < Math.max(1, timer.reps); rep++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / n);
  }
  return best;
}

/** One timed thing: its closure and its time (µs per call) in each round so far. */
export interface Probe {
  fn: () => void;
  times: number[];
}

export function probe(fn: () => void): Probe {
  return { fn, times: [] };
}

/**
 * Runs every probe once per round, in the given order, `rounds` times, appending each probe's time;
 * `between(round)` runs after each round (for example an external reference measured once per round).
 */
export function measureRounds(probes: readonly Probe[], rounds: number, timer: Timer, between?: (round: number) => void): void {
  for (let round = 0; round < rounds; round++) {
    for (const p of probes) p.times.push(time(p.fn, timer));
    between?.(round);
  }
}

/** The median (the mean of the two middle values for an even count) of the finite values; NaN when none. */
export function median(values: readonly number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A ratio over rounds: its median and the smallest and largest round. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** numerator[r] / denominator[r] for every round r both have, as a Spread. */
export function ratioSpread(numerator: readonly number[], denominator: readonly number[]): Spread {
  const ratios: number[] = [];
  for (let r = 0; r < Math.min(numerator.length, denominator.length); r++) ratios.push(numerator[r]! / denominator[r]!);
  const finite = ratios.filter((v) => Number.isFinite(v));
  return { median: median(finite), min: finite.length === 0 ? NaN : Math.min(...finite), max: finite.length === 0 ? NaN : Math.max(...finite) };
}

/** The median time of a probe (µs). */
export function medianUs(p: Probe): number {
  return median(p.times);
}
